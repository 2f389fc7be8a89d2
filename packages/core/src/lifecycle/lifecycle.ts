import { InvalidFieldError, UserNotFoundError } from '../errors';
import type { UserPage } from '../store';
import type { UserRecord, UserRef } from '../types';
import {
  type ChangeReporterOptions,
  createChangeReporter,
  keepAdminOption,
  lifecyclePart,
  resolveUserId,
} from './changes';
import { optionalText, validActor, validateListQuery } from './fields';
import { createRoleOperations, type ProviderRoleSync, type RoleOperationsOptions } from './roles';
import type { ListUsersQuery, UserLifecycle } from './types';

/** What {@link createUserLifecycle} needs from the provisioner. */
export interface UserLifecycleOptions extends ChangeReporterOptions, RoleOperationsOptions {}

/**
 * The lifecycle operations (`disable`, `enable`, `deleteUser`, `revokeSessions`, `setRole`, `listUsers`):
 * validate, resolve the reference, change the store (with its outbox event in outbox mode), drop the user
 * from the cache, then deliver the event inline or nudge the dispatcher.
 *
 * @example
 * ```ts
 * const lifecycle = createUserLifecycle({ store, defaultRole: 'user', outboxMode: false, nudge, userEventHooks, hookTimeoutMs, logger, forget, providerManaged });
 * await lifecycle.disable(userId, { reason: 'left the company', actor: adminId });
 * ```
 */
export function createUserLifecycle(options: UserLifecycleOptions): UserLifecycle & ProviderRoleSync {
  const { store } = options;
  const reporter = createChangeReporter(options);
  const { eventInput, changed } = reporter;

  async function setStatus(
    ref: UserRef,
    status: 'active' | 'disabled',
    opts: { actor?: unknown; keepAdmin?: boolean },
    data?: Record<string, unknown>,
  ): Promise<UserRecord> {
    const operation = status === 'active' ? 'enable' : 'disable';
    const part = lifecyclePart(store, operation);
    const actor = validActor(opts.actor);
    const type = status === 'active' ? 'user.enabled' : 'user.disabled';
    const result = await part.setStatus(await resolveUserId(store, ref), status, {
      ...eventInput(type, actor, data),
      ...keepAdminOption(opts),
    });
    if (result.changed) await changed(result.user, type, actor, data);
    else options.forget(result.user);
    return result.user;
  }

  return {
    async listUsers(query) {
      const q = validateListQuery(query);
      return lifecyclePart(store, 'listUsers').list(q);
    },

    async disable(ref, opts = {}) {
      const reason = optionalText('reason', opts.reason, 1000);
      return setStatus(ref, 'disabled', opts, reason === null ? undefined : { reason });
    },

    enable: (ref, opts = {}) => setStatus(ref, 'active', { actor: opts.actor }),

    async deleteUser(ref, opts = {}) {
      const part = lifecyclePart(store, 'deleteUser');
      const actor = validActor(opts.actor);
      const deleted = await part.delete(await resolveUserId(store, ref), {
        ...eventInput('user.deleted', actor),
        ...keepAdminOption(opts),
      });
      if (deleted === null) throw new UserNotFoundError();
      await changed(deleted, 'user.deleted', actor);
    },

    async revokeSessions(ref, opts = {}) {
      const part = lifecyclePart(store, 'revokeSessions');
      const actor = validActor(opts.actor);
      const at = opts.at;
      if (at !== undefined && (!(at instanceof Date) || Number.isNaN(at.getTime())))
        throw new InvalidFieldError('at', 'at must be a valid Date');
      const user = await part.revokeSessions(await resolveUserId(store, ref), {
        ...eventInput('user.sessions_revoked', actor),
        ...(at === undefined ? {} : { at }),
      });
      await changed(user, 'user.sessions_revoked', actor);
      return user;
    },

    ...createRoleOperations(options, reporter),
  } satisfies UserLifecycle & ProviderRoleSync & { listUsers(query?: ListUsersQuery): Promise<UserPage> };
}
