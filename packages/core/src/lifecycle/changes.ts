import { randomUUID } from 'node:crypto';
import { ConfigurationError, InvalidFieldError, UserNotFoundError } from '../errors';
import { runHooks } from '../events';
import type { Store, UserChangeOptions, UserLifecycleStore } from '../store';
import type { Logger, UserEvent, UserEventHook, UserEventType, UserRecord, UserRef } from '../types';

/** What {@link createChangeReporter} needs from the provisioner. */
export interface ChangeReporterOptions {
  /** Outbox mode: stores write events with the change; `nudge` makes their delivery prompt. */
  outboxMode: boolean;
  nudge: () => void;
  userEventHooks: readonly UserEventHook[];
  hookTimeoutMs: number;
  logger: Logger;
  /** Drop every cached trace of a user (by id and by identity). */
  forget: (user: { id: string; issuer: string; subject: string }) => void;
}

/** How a lifecycle operation reports its change. */
export interface ChangeReporter {
  /** The store write's options: in outbox mode the event to write with the change, else none. */
  eventInput(type: UserEventType, actor: string | null, data?: Record<string, unknown>): UserChangeOptions;
  /**
   * After a change: forget the cached row, then deliver (inline) or hurry (outbox) its event. `durable`
   * false: the store wrote no event with the change (no lifecycle part), so it is delivered inline.
   */
  changed(
    user: UserRecord,
    type: UserEventType,
    actor: string | null,
    data?: Record<string, unknown>,
    durable?: boolean,
  ): Promise<void>;
}

/**
 * Build the change reporter the lifecycle operations share.
 *
 * @example
 * ```ts
 * const { eventInput, changed } = createChangeReporter(options);
 * const user = await store.users.revokeSessions(id, eventInput('user.sessions_revoked', actor));
 * await changed(user, 'user.sessions_revoked', actor);
 * ```
 */
export function createChangeReporter(options: ChangeReporterOptions): ChangeReporter {
  const { outboxMode, userEventHooks, logger, hookTimeoutMs } = options;
  return {
    eventInput: (type, actor, data) =>
      outboxMode ? { event: { type, actor, ...(data === undefined ? {} : { data }) } } : {},

    async changed(user, type, actor, data, durable = true) {
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
    },
  };
}

/**
 * The store's lifecycle part, or a ConfigurationError naming the operation: the operation is only possible
 * with a store that has `users`.
 *
 * @example
 * ```ts
 * await lifecyclePart(store, 'disable').setStatus(id, 'disabled');
 * ```
 */
export function lifecyclePart(store: Store, operation: string): UserLifecycleStore {
  const part = store.users;
  if (part === undefined)
    throw new ConfigurationError(`${operation} needs a store with \`users\` (the lifecycle part)`);
  return part;
}

/**
 * The user id a {@link UserRef} names: an id as it is (an impossible one is not found), an (issuer, subject)
 * by one lookup. `UserNotFoundError` for no such user, `InvalidFieldError` for anything else.
 *
 * @example
 * ```ts
 * const id = await resolveUserId(store, { issuer, subject: 'f81d4fae' });
 * ```
 */
export async function resolveUserId(store: Pick<Store, 'lookup'>, ref: UserRef): Promise<string> {
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

/** The store's `keepAdmin` for a lifecycle call's `{ keepAdmin: true }`. */
export const keepAdminOption = (opts: { keepAdmin?: boolean }): { keepAdmin?: string } =>
  opts.keepAdmin === true ? { keepAdmin: 'admin' } : {};
