import { LastAdminError } from './errors';
import type { UserRecord } from './types';

/** A change an admin asks for; `role: null` removes the role. */
export interface UserChange {
  role?: string | null;
  status?: 'active' | 'disabled';
  deleted?: boolean;
}

const isActiveAdmin = (user: UserRecord, adminRole: string) =>
  user.role === adminRole && (user as { status?: unknown }).status !== 'disabled';

/**
 * Refuse (409 `last_admin`) a change that would take the last active admin away: demoting, disabling or
 * deleting an active admin while `countActiveAdmins()` says they are the only one. Changes to anyone else
 * pass without counting. Two admins demoting each other at the same moment can both pass; the count is a
 * guard against locking yourself out, not a lock.
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
