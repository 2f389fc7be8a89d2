import { adminKeeperOf, createAdminKeeper, type UserChange } from '../lifecycle';
import type { Provisioner } from '../provisioning';
import type { UserRecord } from '../types';

export { assertAdminRemains, isActiveAdmin, type UserChange } from '../lifecycle';

/**
 * Run `admit` (the acting admin's re-check), read user `id`, refuse the change with 409 `last_admin` if it would
 * leave no active admin, then `apply` it, in the provisioner's one queue of such changes (the one its
 * `preProvision` uses too): two admins demoting each other at once cannot both pass here, and an admin demoted,
 * disabled or deleted by the change queued before theirs is refused by `admit` rather than acting on the
 * authorisation they had when the request arrived. Other processes are not covered (see docs/admin-api.md).
 * A provisioner built elsewhere gets a queue of its own, counting active admins with `listUsers`.
 *
 * @example
 * ```ts
 * await changeUserKeepingAdmin(
 *   provisioner,
 *   userId,
 *   { deleted: true },
 *   (user) => provisioner.deleteUser(user.id, { actor: adminId }),
 *   async () => {
 *     if ((await provisioner.getUser(adminId))?.role !== 'admin') throw new ForbiddenError();
 *   },
 * ); // 403 forbidden, 404 user_not_found, 409 last_admin, or deleted
 * ```
 */
export function changeUserKeepingAdmin<T>(
  provisioner: Provisioner,
  id: string,
  change: UserChange,
  apply: (user: UserRecord) => Promise<T>,
  admit?: () => Promise<unknown>,
): Promise<T> {
  const keep = adminKeeperOf(provisioner, () =>
    createAdminKeeper({
      getUser: (userId) => provisioner.getUser(userId),
      countActiveAdmins: async () =>
        (await provisioner.listUsers({ role: 'admin', status: 'active', limit: 2 })).users.length,
    }),
  );
  return keep(id, change, apply, admit);
}
