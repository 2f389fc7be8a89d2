import { LastAdminError, UserNotFoundError } from '../errors';
import type { Store } from '../store';
import type { UserRecord } from '../types';

/** The role the last-admin rule keeps at least one active holder of. */
export const ADMIN_ROLE = 'admin';

/** A change that may take an admin away; `role: null` removes the role. */
export interface UserChange {
  role?: string | null;
  status?: 'active' | 'disabled';
  deleted?: boolean;
}

/** An admin who counts: role `adminRole` and not disabled. */
export const isActiveAdmin = (user: UserRecord, adminRole = ADMIN_ROLE): boolean =>
  user.role === adminRole && (user as { status?: unknown }).status !== 'disabled';

/**
 * Refuse (409 `last_admin`) a change that would take the last active admin away: demoting, disabling or
 * deleting an active admin while `countActiveAdmins()` says they are the only one. Changes to anyone else
 * pass without counting. On its own this is a check, not a lock: two admins demoting each other at the same
 * moment can both pass. An {@link AdminKeeper} runs it one change at a time.
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
  adminRole = ADMIN_ROLE,
): Promise<void> {
  if (!isActiveAdmin(target, adminRole)) return;
  const removes =
    change.deleted === true ||
    change.status === 'disabled' ||
    (change.role !== undefined && change.role !== adminRole);
  if (removes && (await countActiveAdmins()) <= 1) throw new LastAdminError();
}

/**
 * Runs changes that could take the last admin away, one at a time: `admit()` first (e.g. the acting admin's
 * re-check), then a fresh read of user `id` (404 `user_not_found`), the last-admin rule for `change`, then
 * `apply(user)`.
 */
export type AdminKeeper = <T>(
  id: string,
  change: UserChange,
  apply: (user: UserRecord) => Promise<T>,
  admit?: () => Promise<unknown>,
) => Promise<T>;

/** What {@link createAdminKeeper} reads. */
export interface AdminKeeperOptions {
  getUser(id: string): Promise<UserRecord | null>;
  /**
   * Active admins, counted up to 2 (more changes nothing). Undefined for a store that cannot list users:
   * there is nothing to count against, and the change is applied.
   */
  countActiveAdmins: (() => Promise<number>) | undefined;
}

/**
 * One queue of admin-removing changes. Every caller that changes the same users must share one keeper
 * ({@link adminKeeperOf}): the provisioner's `preProvision` and the admin API do, so a demotion through a
 * Kratos invitation and an admin's PATCH cannot both pass. Other processes are not covered (docs/admin-api.md).
 *
 * @example
 * ```ts
 * const keep = createAdminKeeper({ getUser: (id) => store.getUser(id), countActiveAdmins });
 * await keep(userId, { role: 'user' }, (user) => setRole(user.id, 'user')); // LastAdminError if the only admin
 * ```
 */
export function createAdminKeeper(options: AdminKeeperOptions): AdminKeeper {
  const { getUser, countActiveAdmins } = options;
  let queue: Promise<unknown> = Promise.resolve();
  const settled = () => undefined;
  return (id, change, apply, admit) => {
    const run = async () => {
      await admit?.();
      const user = await getUser(id);
      if (user === null) throw new UserNotFoundError();
      if (countActiveAdmins !== undefined) await assertAdminRemains(user, change, countActiveAdmins);
      return apply(user);
    };
    const next = queue.then(run, run);
    queue = next.then(settled, settled);
    return next;
  };
}

const keepers = new WeakMap<object, AdminKeeper>();

/**
 * The keeper of `owner` (a provisioner): the one registered for it, else one made by `make` and kept. The
 * provisioner registers the keeper its `preProvision` uses, so the admin API queues behind the same one.
 *
 * @example
 * ```ts
 * const keep = adminKeeperOf(provisioner, () => createAdminKeeper({ getUser, countActiveAdmins }));
 * ```
 */
export function adminKeeperOf(owner: object, make: () => AdminKeeper): AdminKeeper {
  let keeper = keepers.get(owner);
  if (keeper === undefined) {
    keeper = make();
    keepers.set(owner, keeper);
  }
  return keeper;
}

/**
 * The keeper of a store's users: reads rows with `getUser` and counts active admins through the lifecycle
 * part (a store without one has nothing to count against).
 *
 * @example
 * ```ts
 * const keep = storeAdminKeeper(store);
 * ```
 */
export function storeAdminKeeper(store: Pick<Store, 'getUser' | 'users'>): AdminKeeper {
  const users = store.users;
  return createAdminKeeper({
    getUser: (id) => store.getUser(id),
    countActiveAdmins:
      users === undefined
        ? undefined
        : async () => (await users.list({ role: ADMIN_ROLE, status: 'active', limit: 2 })).users.length,
  });
}
