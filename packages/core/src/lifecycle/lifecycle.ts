import { randomUUID } from 'node:crypto';
import { ConfigurationError, InvalidFieldError, UserNotFoundError } from '../errors';
import { runHooks } from '../events';
import { hasControlCharacters, isRole, ROLE_RULE, validateRole } from '../identity';
import type { Store, UserEventInput, UserLifecycleStore, UserListQuery, UserPage } from '../store';
import type {
  Logger,
  RoleSource,
  UserEvent,
  UserEventHook,
  UserEventType,
  UserRecord,
  UserRef,
} from '../types';
import type { ListUsersQuery, UserLifecycle } from './types';

/** Default and largest page of `listUsers`. */
export const LIST_LIMITS = { default: 50, max: 500 } as const;

/** What {@link createUserLifecycle} needs from the provisioner. */
export interface UserLifecycleOptions {
  store: Store;
  defaultRole: string;
  /** Outbox mode: stores write events with the change; `nudge` makes their delivery prompt. */
  outboxMode: boolean;
  nudge: () => void;
  userEventHooks: readonly UserEventHook[];
  hookTimeoutMs: number;
  logger: Logger;
  /** Drop every cached trace of a user (by id and by identity). */
  forget: (user: { id: string; issuer: string; subject: string }) => void;
  /** Whether this issuer's logins keep roles in sync (`roles.sync: 'login'`): `setRole(ref, null)` hands back to it. */
  providerManaged: (issuer: string) => boolean;
}

/** What the provisioner's login path needs from the lifecycle besides the public operations. */
export interface ProviderRoleSync {
  /**
   * A login's role sync: set the provider's role unless the user's role is local (decided atomically by the
   * store), emitting `user.role_changed` with `source: 'provider'` only when the role really changed.
   */
  syncProviderRole(user: UserRecord, role: string): Promise<UserRecord>;
}

/** The provisioner's admin operations on existing users. */

function optionalText(field: string, value: unknown, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || hasControlCharacters(value))
    throw new InvalidFieldError(field, `${field} must be 1-${max} characters without control characters`);
  return value;
}

/** The `actor` of a change: a user id (1-255 characters) or null when none is given. */
export const validActor = (value: unknown): string | null => optionalText('actor', value, 255);

/** Check `listUsers`' arguments before anything is read: every bad value is an `invalid_field` (422) naming it. */
export function validateListQuery(q: ListUsersQuery = {}): UserListQuery {
  if (typeof q !== 'object' || q === null) throw new InvalidFieldError('query', 'expected an object');
  const out: UserListQuery = { limit: LIST_LIMITS.default };
  const query = optionalText('query', q.query === '' ? undefined : q.query, 256);
  if (query !== null) out.query = query;
  if (q.role !== undefined) {
    if (!isRole(q.role)) throw new InvalidFieldError('role', `role ${ROLE_RULE}`);
    out.role = q.role;
  }
  if (q.status !== undefined) {
    if (q.status !== 'active' && q.status !== 'disabled')
      throw new InvalidFieldError('status', "status must be 'active' or 'disabled'");
    out.status = q.status;
  }
  if (q.seenBefore !== undefined) {
    if (!(q.seenBefore instanceof Date) || Number.isNaN(q.seenBefore.getTime()))
      throw new InvalidFieldError('seenBefore', 'seenBefore must be a valid Date');
    out.seenBefore = q.seenBefore;
  }
  if (q.limit !== undefined) {
    if (!Number.isInteger(q.limit) || q.limit < 1)
      throw new InvalidFieldError('limit', 'limit must be an integer ≥ 1');
    out.limit = Math.min(q.limit, LIST_LIMITS.max);
  }
  const cursor = optionalText('cursor', q.cursor === '' ? undefined : q.cursor, 1024);
  if (cursor !== null) out.cursor = cursor;
  return out;
}

/**
 * The lifecycle operations (`disable`, `enable`, `deleteUser`, `revokeSessions`, `setRole`, `listUsers`):
 * validate, resolve the reference, change the store (with its outbox event in outbox mode), drop the user
 * from the cache, then deliver the event inline or nudge the dispatcher.
 */
export function createUserLifecycle(options: UserLifecycleOptions): UserLifecycle & ProviderRoleSync {
  const { store, outboxMode, userEventHooks, logger, hookTimeoutMs } = options;

  function users(operation: string): UserLifecycleStore {
    const part = store.users;
    if (part === undefined)
      throw new ConfigurationError(`${operation} needs a store with \`users\` (the lifecycle part)`);
    return part;
  }

  async function idOf(ref: UserRef): Promise<string> {
    if (typeof ref === 'string') {
      // An id no store could hold is simply not found: nothing to probe.
      if (ref.length === 0 || ref.length > 255) throw new UserNotFoundError();
      return ref;
    }
    if (
      typeof ref !== 'object' ||
      ref === null ||
      typeof ref.issuer !== 'string' ||
      typeof ref.subject !== 'string'
    )
      throw new InvalidFieldError('ref', 'a user id or { issuer, subject }');
    const user = await store.lookup({ issuer: ref.issuer, subject: ref.subject });
    if (user === null) throw new UserNotFoundError();
    return user.id;
  }

  const eventInput = (type: UserEventType, actor: string | null, data?: Record<string, unknown>) =>
    outboxMode
      ? { event: { type, actor, ...(data === undefined ? {} : { data }) } satisfies UserEventInput }
      : {};

  /** After a change: forget the cached row, then deliver (inline) or hurry (outbox) its event. */
  async function changed(
    user: UserRecord,
    type: UserEventType,
    actor: string | null,
    data?: Record<string, unknown>,
    durable = true,
  ): Promise<void> {
    options.forget(user);
    if (outboxMode && durable) {
      options.nudge();
      return;
    }
    if (userEventHooks.length === 0) return;
    const event: UserEvent = {
      type,
      eventId: randomUUID(),
      userId: user.id,
      user: type === 'user.deleted' ? null : user,
      actor,
      at: new Date(),
      ...(data === undefined ? {} : { data }),
    };
    await runHooks(userEventHooks, event, {
      timeoutMs: hookTimeoutMs,
      logger,
      userId: user.id,
      label: 'onUserEvent',
    });
  }

  async function setStatus(
    ref: UserRef,
    status: 'active' | 'disabled',
    actorInput: unknown,
    data?: Record<string, unknown>,
  ): Promise<UserRecord> {
    const operation = status === 'active' ? 'enable' : 'disable';
    const part = users(operation);
    const actor = validActor(actorInput);
    const type = status === 'active' ? 'user.enabled' : 'user.disabled';
    const result = await part.setStatus(await idOf(ref), status, eventInput(type, actor, data));
    if (result.changed) await changed(result.user, type, actor, data);
    else options.forget(result.user);
    return result.user;
  }

  return {
    async listUsers(query) {
      const q = validateListQuery(query);
      return users('listUsers').list(q);
    },

    async disable(ref, opts = {}) {
      const reason = optionalText('reason', opts.reason, 1000);
      return setStatus(ref, 'disabled', opts.actor, reason === null ? undefined : { reason });
    },

    enable: (ref, opts = {}) => setStatus(ref, 'active', opts.actor),

    async deleteUser(ref, opts = {}) {
      const part = users('deleteUser');
      const actor = validActor(opts.actor);
      const deleted = await part.delete(await idOf(ref), eventInput('user.deleted', actor));
      if (deleted === null) throw new UserNotFoundError();
      await changed(deleted, 'user.deleted', actor);
    },

    async revokeSessions(ref, opts = {}) {
      const part = users('revokeSessions');
      const actor = validActor(opts.actor);
      const user = await part.revokeSessions(await idOf(ref), eventInput('user.sessions_revoked', actor));
      await changed(user, 'user.sessions_revoked', actor);
      return user;
    },

    async setRole(ref, roleInput, opts = {}) {
      let role = roleInput === null ? options.defaultRole : validateRole(roleInput);
      let source: RoleSource = roleInput === null ? 'default' : 'local';
      const actor = validActor(opts.actor);
      const id = await idOf(ref);
      if (roleInput === null) {
        // `null` hands the role back: to the provider when its logins keep roles in sync (the role stays
        // until the next login re-evaluates it), else to the default role.
        const user = await store.getUser(id);
        if (user === null) throw new UserNotFoundError();
        if (options.providerManaged(user.issuer)) {
          role = user.role;
          source = 'provider';
        }
      }
      if (store.users !== undefined) {
        const result = await store.users.setRole(id, role, {
          ...eventInput('user.role_changed', actor, { to: role, source }),
          source,
        });
        if (result.changed)
          await changed(result.user, 'user.role_changed', actor, { from: result.from, to: role, source });
        else options.forget(result.user);
        return result.user;
      }
      // A store without the lifecycle part: no atomic outbox write, so the event is delivered inline.
      const before = await store.getUser(id);
      const user = await store.setRole(id, role, source);
      if (before !== null && before.role !== role)
        await changed(user, 'user.role_changed', actor, { from: before.role, to: role, source }, false);
      else options.forget(user);
      return user;
    },

    async syncProviderRole(user, role) {
      // Checked at start-up: sync at login needs `users`. Without it the row is served as it is.
      if (store.users === undefined) return user;
      const data = { to: role, source: 'provider' };
      const result = await store.users.setRole(user.id, role, {
        ...eventInput('user.role_changed', null, data),
        source: 'provider',
        keepLocal: true,
      });
      if (result.changed)
        await changed(result.user, 'user.role_changed', null, { from: result.from, ...data });
      else options.forget(result.user);
      return result.user;
    },
  } satisfies UserLifecycle & ProviderRoleSync & { listUsers(query?: ListUsersQuery): Promise<UserPage> };
}
