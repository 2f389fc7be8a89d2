import { userKey } from '../identity';
import { Lru } from '../internal';
import type { UserRecord, UserRef } from '../types';

/**
 * The record the provisioner hands out: a frozen shallow copy, made once when a row comes from the store
 * (never per cache hit). Every request of a user — and every caller sharing one in-flight lookup — gets
 * the same object, so a handler that set `user.role` would change what the next requests see while the
 * database says otherwise; frozen, that assignment throws a TypeError (strict mode) or does nothing.
 * `createdAt`/`updatedAt` are Dates, which freezing cannot protect: treat them as read-only too.
 *
 * @example
 * ```ts
 * const user = frozenUser(await store.lookup(identity));
 * user.role = 'admin'; // TypeError in strict mode
 * ```
 */
export function frozenUser(user: UserRecord): Readonly<UserRecord> {
  return Object.isFrozen(user) ? user : Object.freeze({ ...user });
}

/** Default bounds of the user cache: 10,000 users, each kept at most 30 seconds. */
export const DEFAULT_USER_CACHE = { maxEntries: 10_000, ttlMs: 30_000 } as const;

/** Options of the provisioner's user cache (`userCache`). */
export interface UserCacheOptions {
  /** Most users kept; the least recently used is evicted first. Default 10,000. */
  maxEntries?: number;
  /** Longest a user row is served without a store read, ms. Default 30 seconds. */
  ttlMs?: number;
}

/** The provisioner's in-process cache of user rows, keyed by (issuer, subject), with an id index. */
export interface UserCache {
  /** The cached row for this identity key (see `userKey`), if fresh. */
  get(key: string): UserRecord | undefined;
  remember(user: UserRecord): void;
  /** Drop a user by id or by (issuer, subject); a no-op when not cached. */
  invalidate(ref: UserRef): void;
  /** Drop every user. */
  clear(): void;
  /**
   * Counts `invalidate` and `clear` calls. A caller reads it before a store read and remembers the row only
   * if it is unchanged after: a change reported while the read was in flight may postdate the row read.
   */
  readonly generation: number;
}

/**
 * A bounded user cache: an LRU of rows with a TTL, plus a userId → key index so `invalidate(userId)` and
 * `setRole` drop an entry without a store read. Its bounds come checked and defaulted from the provisioner's
 * options (`resolveProvisionerOptions`).
 *
 * @example
 * ```ts
 * const users = createUserCache({ maxEntries: 5_000, ttlMs: 10_000 });
 * users.remember(user);
 * users.get(userKey(user)); // user
 * ```
 */
export function createUserCache(options: Required<UserCacheOptions>): UserCache {
  const { ttlMs } = options;
  const users = new Lru<string, UserRecord>(options.maxEntries);
  const keyById = new Map<string, string>();
  let generation = 0;
  return {
    get generation() {
      return generation;
    },
    get: (key) => users.get(key),
    remember(user) {
      const key = userKey(user);
      users.set(key, user, Date.now() + ttlMs);
      keyById.set(user.id, key);
      // keyById outlives evicted entries; trim it alongside so it stays bounded too.
      if (keyById.size > users.size * 2 + 1024) {
        // `has`, not `get`: a scan must not refresh every entry's recency (or evict expired ones as a side effect).
        for (const [id, k] of keyById) if (!users.has(k)) keyById.delete(id);
      }
    },
    invalidate(ref) {
      generation++;
      const key = typeof ref === 'string' ? keyById.get(ref) : userKey(ref);
      if (key !== undefined) users.delete(key);
      if (typeof ref === 'string') keyById.delete(ref);
    },
    clear() {
      generation++;
      users.clear();
      keyById.clear();
    },
  };
}

/** What a disabled cache does: nothing. */
export const NO_USER_CACHE: UserCache = {
  get: () => undefined,
  remember: () => undefined,
  invalidate: () => undefined,
  clear: () => undefined,
  generation: 0,
};
