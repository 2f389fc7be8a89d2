import { LastAdminError, UserNotFoundError } from '../errors';
import type { Provisioner } from '../provisioning';
import type { UserRecord } from '../types';

/** A change an admin asks for; `role: null` removes the role. */
export interface UserChange {
  role?: string | null;
  status?: 'active' | 'disabled';
  deleted?: boolean;
}

/** An admin who counts: role `adminRole` and not disabled. */
export const isActiveAdmin = (user: UserRecord, adminRole = 'admin'): boolean =>
  user.role === adminRole && (user as { status?: unknown }).status !== 'disabled';

/**
 * Refuse (409 `last_admin`) a change that would take the last active admin away: demoting, disabling or
 * deleting an active admin while `countActiveAdmins()` says they are the only one. Changes to anyone else
 * pass without counting. On its own this is a check, not a lock: two admins demoting each other at the same
 * moment can both pass. {@link changeUserKeepingAdmin} runs it under a per-process lock.
 *
 * @example
 * ```ts
 * await assertAdminRemains(target, { status: 'disabled' }, async () =>
 *   (await provisioner.listUsers({ role: 'admin', status: 'active', limit: 2 })).users.length);
 * ```
 */
export async function assertAdminRemains(
  target: UserRecord,
  change: UserChange,
  countActiveAdmins: () => Promise<number>,
  adminRole = 'admin',
): Promise<void> {
  if (!isActiveAdmin(target, adminRole)) return;
  const removes =
    change.deleted === true ||
    change.status === 'disabled' ||
    (change.role !== undefined && change.role !== adminRole);
  if (removes && (await countActiveAdmins()) <= 1) throw new LastAdminError();
}

// One queue per provisioner: the admin changes of this process run one after another.
const queues = new WeakMap<Provisioner, Promise<unknown>>();
const settled = () => undefined;

/**
 * Run `admit` (the acting admin's re-check), read user `id`, refuse the change with 409 `last_admin` if it would
 * leave no active admin, then `apply` it, all while no other `changeUserKeepingAdmin` of this process for the
 * same provisioner runs: two admins demoting each other at once cannot both pass here, and an admin demoted,
 * disabled or deleted by the change queued before theirs is refused by `admit` rather than acting on the
 * authorisation they had when the request arrived. Other processes are not covered (see docs/admin-api.md).
 * Active admins are counted with `listUsers({ role: 'admin', status: 'active', limit: 2 })`.
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
  admit: () => Promise<unknown> = async () => undefined,
): Promise<T> {
  const run = async () => {
    await admit();
    const user = await provisioner.getUser(id);
    if (user === null) throw new UserNotFoundError();
    await assertAdminRemains(
      user,
      change,
      async () => (await provisioner.listUsers({ role: 'admin', status: 'active', limit: 2 })).users.length,
    );
    return apply(user);
  };
  const next = (queues.get(provisioner) ?? Promise.resolve()).then(run, run);
  queues.set(provisioner, next.then(settled, settled));
  return next;
}
