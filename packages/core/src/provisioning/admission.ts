import { UserDisabledError } from '../errors';
import type { UserRecord } from '../types';
import type { UserCache } from './user-cache';

/** The two things every path does with a row it read: let it in (or not), and cache it. */
export interface Admission {
  /** Every path lets a user in through here: disabled users never pass, active ones are seen. */
  admit(user: UserRecord): void;
  /**
   * Cache a row read at `generation` (the cache's generation before the store read), unless an
   * invalidation came meanwhile: a change reported while the read was in flight may postdate the row.
   */
  remember(user: UserRecord, generation: number | undefined): void;
}

/**
 * Build `admit` and `remember` over the user cache (undefined: no cache) and the `lastSeenAt` recorder
 * (undefined: not recorded).
 *
 * @example
 * ```ts
 * const { admit, remember } = createAdmission(users, seen);
 * const generation = users?.generation;
 * const row = await store.lookup(identity);
 * if (row !== null) { remember(row, generation); admit(row); }
 * ```
 */
export function createAdmission(
  users: UserCache | undefined,
  seen: ((user: UserRecord) => void) | undefined,
): Admission {
  return {
    admit(user) {
      // `=== 'disabled'`, not `!== 'active'`: a custom store without the lifecycle has no status to refuse on.
      if (user.status === 'disabled') throw new UserDisabledError();
      seen?.(user);
    },
    remember(user, generation) {
      if (users !== undefined && users.generation === generation) users.remember(user);
    },
  };
}
