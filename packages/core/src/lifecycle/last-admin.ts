import { LastAdminError, UserNotFoundError } from '../errors';
import type { UserRecord } from '../types';

/** The role the last-admin rule keeps at least one active holder of. */
export const ADMIN_ROLE = 'admin';

/** What {@link createAdminRoleKeeper} reads. */
export interface AdminRoleKeeperOptions {
  getUser(id: string): Promise<UserRecord | null>;
  /**
   * Active admins, counted up to 2 (more changes nothing). Undefined for a store that cannot list users:
   * there is nothing to count against, and the change is applied.
   */
  countActiveAdmins: (() => Promise<number>) | undefined;
}

/**
 * Role changes that keep an active admin: `keep(id, role, apply)` reads user `id` and refuses (409
 * `last_admin`) setting `role` when that would demote the only active admin, else runs `apply(user)`. The
 * changes of one keeper run one after another, each on a fresh read, so two demotions at once cannot both
 * pass (within this process).
 *
 * @example
 * ```ts
 * const keep = createAdminRoleKeeper({ getUser: store.getUser, countActiveAdmins });
 * await keep(userId, 'user', () => setRole(userId, 'user')); // LastAdminError when they are the only admin
 * ```
 */
export function createAdminRoleKeeper(
  options: AdminRoleKeeperOptions,
): <T>(id: string, role: string, apply: (user: UserRecord) => Promise<T>) => Promise<T> {
  const { getUser, countActiveAdmins } = options;
  let queue: Promise<unknown> = Promise.resolve();
  const settled = () => undefined;
  return (id, role, apply) => {
    const run = async () => {
      const user = await getUser(id);
      if (user === null) throw new UserNotFoundError();
      const demotesActiveAdmin =
        user.role === ADMIN_ROLE && user.status !== 'disabled' && role !== ADMIN_ROLE;
      if (demotesActiveAdmin && countActiveAdmins !== undefined && (await countActiveAdmins()) <= 1)
        throw new LastAdminError();
      return apply(user);
    };
    const next = queue.then(run, run);
    queue = next.then(settled, settled);
    return next;
  };
}
