import type { UserLifecycleStore } from '../store';
import type { Logger, UserRecord } from '../types';

/** Default least time between two `lastSeenAt` writes of one user: one hour. */
export const DEFAULT_LAST_SEEN_INTERVAL_MS = 3_600_000;

/**
 * Build the `lastSeenAt` recorder the request path calls with every user it lets in. It writes at most once
 * per `intervalMs` per user (per process), never makes the request wait (the write is not awaited), and logs
 * the first failure of a streak, then ignores failures until a write succeeds again. `intervalMs` comes
 * checked and defaulted from the provisioner's options (`resolveProvisionerOptions`).
 *
 * @example
 * ```ts
 * const seen = createLastSeen(store.users, { intervalMs: 60_000 }, logger);
 * seen?.(user); // returns at once; the write, if due, runs in the background
 * ```
 */
export function createLastSeen(
  users: UserLifecycleStore | undefined,
  options: { intervalMs: number } | false,
  logger: Logger,
  maxEntries = 10_000,
): ((user: UserRecord) => void) | undefined {
  if (users === undefined || options === false) return undefined;
  const { intervalMs } = options;
  // When each user's next write is due. A plain Map read (no LRU recency update) keeps the cache-hit path at
  // one lookup; bounded by dropping the oldest entry, after which that user is judged again by the
  // `lastSeenAt` of the row at hand.
  const nextDue = new Map<string, number>();
  const remember = (id: string, due: number) => {
    nextDue.delete(id);
    nextDue.set(id, due);
    if (nextDue.size > maxEntries) {
      const oldest = nextDue.keys().next();
      if (!oldest.done) nextDue.delete(oldest.value);
    }
  };
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
    const due = nextDue.get(user.id);
    if (due !== undefined && due > now) return;
    const last = user.lastSeenAt === null ? undefined : user.lastSeenAt.getTime();
    if (last !== undefined && now - last < intervalMs) {
      remember(user.id, last + intervalMs);
      return;
    }
    remember(user.id, now + intervalMs);
    const { id } = user;
    // Through a microtask, so even a store that throws synchronously never reaches the request.
    Promise.resolve()
      .then(() => users.touchLastSeen(id))
      .then(ok, failed);
  };
}
