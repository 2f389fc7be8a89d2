import { Lru } from './lru';
import { positive } from './positive';
import type { UserLifecycleStore } from './store';
import type { Logger, UserRecord } from './types';

/** Default least time between two `lastSeenAt` writes of one user: one hour. */
export const DEFAULT_LAST_SEEN_INTERVAL_MS = 3_600_000;

/**
 * Build the `lastSeenAt` recorder the request path calls with every user it lets in. It writes at most once
 * per `intervalMs` per user (per process), never makes the request wait (the write is not awaited), and logs
 * the first failure of a streak, then ignores failures until a write succeeds again.
 *
 * @example
 * ```ts
 * const seen = createLastSeen(store.users, { intervalMs: 60_000 }, logger);
 * seen?.(user); // returns at once; the write, if due, runs in the background
 * ```
 */
export function createLastSeen(
  users: UserLifecycleStore | undefined,
  options: { intervalMs?: number } | false | undefined,
  logger: Logger,
  maxEntries = 10_000,
): ((user: UserRecord) => void) | undefined {
  if (users === undefined || options === false) return undefined;
  const intervalMs = positive(options?.intervalMs, DEFAULT_LAST_SEEN_INTERVAL_MS, 'lastSeen.intervalMs');
  // Users written (or known fresh) recently, each until its next write is due. Bounded: an evicted user is
  // judged again by the `lastSeenAt` of the row at hand.
  const fresh = new Lru<string, true>(maxEntries);
  let failing = false;
  const ok = () => {
    failing = false;
  };
  const failed = (err: unknown) => {
    if (failing) return;
    failing = true;
    logger.warn({ err }, 'recording lastSeenAt failed; ignored until a write succeeds');
  };
  return (user) => {
    const now = Date.now();
    if (fresh.get(user.id, now) !== undefined) return;
    const last = user.lastSeenAt === null ? undefined : user.lastSeenAt.getTime();
    if (last !== undefined && now - last < intervalMs) {
      fresh.set(user.id, true, last + intervalMs);
      return;
    }
    fresh.set(user.id, true, now + intervalMs);
    const { id } = user;
    // Through a microtask, so even a store that throws synchronously never reaches the request.
    Promise.resolve()
      .then(() => users.touchLastSeen(id))
      .then(ok, failed);
  };
}
