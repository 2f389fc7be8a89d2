import { UserNotFoundError } from '../errors';
import { validateRole } from '../identity';
import type { Store } from '../store';
import type { RoleSource, UserRecord } from '../types';
import type { ChangeReporter } from './changes';
import { keepAdminOption, resolveUserId } from './changes';
import { validActor } from './fields';
import type { UserLifecycle } from './types';

/** What the provisioner's login path needs from the lifecycle besides the public operations. */
export interface ProviderRoleSync {
  /**
   * A login's role sync: set the provider's role unless the user's role is local (decided atomically by the
   * store), emitting `user.role_changed` with `source: 'provider'` only when the role really changed.
   */
  syncProviderRole(user: UserRecord, role: string): Promise<UserRecord>;
}

/** What {@link createRoleOperations} needs from the provisioner. */
export interface RoleOperationsOptions {
  store: Store;
  defaultRole: string;
  /** Whether this issuer's logins keep roles in sync (`roles.sync: 'login'`): `setRole(ref, null)` hands back to it. */
  providerManaged: (issuer: string) => boolean;
  /** Drop every cached trace of a user (by id and by identity). */
  forget: (user: { id: string; issuer: string; subject: string }) => void;
}

/**
 * The two writers of a user's role: `setRole` (an admin's, local unless handed back with `null`) and
 * `syncProviderRole` (a login's, never over a local role). Both emit `user.role_changed` only on a change.
 *
 * @example
 * ```ts
 * const { setRole, syncProviderRole } = createRoleOperations(options, createChangeReporter(options));
 * await setRole(userId, 'admin', { actor: adminId });
 * ```
 */
export function createRoleOperations(
  options: RoleOperationsOptions,
  reporter: ChangeReporter,
): Pick<UserLifecycle, 'setRole'> & ProviderRoleSync {
  const { store, forget } = options;
  const { eventInput, changed } = reporter;
  return {
    async setRole(ref, roleInput, opts = {}) {
      let role = roleInput === null ? options.defaultRole : validateRole(roleInput);
      let source: RoleSource = roleInput === null ? 'default' : 'local';
      const actor = validActor(opts.actor);
      const id = await resolveUserId(store, ref);
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
          ...keepAdminOption(opts),
          source,
        });
        if (result.changed)
          await changed(result.user, 'user.role_changed', actor, { from: result.from, to: role, source });
        else forget(result.user);
        return result.user;
      }
      // A store without the lifecycle part: no atomic outbox write, so the event is delivered inline.
      const before = await store.getUser(id);
      const user = await store.setRole(id, role, source);
      if (before !== null && before.role !== role)
        await changed(user, 'user.role_changed', actor, { from: before.role, to: role, source }, false);
      else forget(user);
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
      else forget(result.user);
      return result.user;
    },
  };
}
