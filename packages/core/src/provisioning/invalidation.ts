import { describeError } from '../internal';
import type { UserChangeFeed, UserChangeStatus } from '../store';
import type { Logger } from '../types';
import type { UserCache } from './user-cache';

/** A user cache kept in step with a store's change feed. */
export interface CacheInvalidation {
  /** Stop following the feed (the cache stays bypassed from then on). Idempotent. */
  close(): Promise<void>;
}

/**
 * Subscribe `cache` to `feed`: every reported change drops the user by id and by (issuer, subject) at once.
 * `setLive(live)` tells the caller whether the cache may serve: only while the feed is up. Before the
 * subscription is established, while it is down and after `close()` it is bypassed, and every `'up'` clears
 * it (changes before it may have been missed), so what it serves is never older than the feed's own delay.
 *
 * Subscribing is started here but not awaited: `createProvisioner` returns synchronously, and the first
 * requests simply read the store until the feed reports up.
 *
 * @example
 * ```ts
 * let live = false;
 * const sync = followChanges(store.changes, cache, logger, (value) => (live = value));
 * const cached = live ? cache.get(key) : undefined;
 * await sync.close();
 * ```
 */
export function followChanges(
  feed: UserChangeFeed,
  cache: UserCache,
  logger: Logger,
  setLive: (live: boolean) => void,
  onChange?: () => void,
): CacheInvalidation {
  let reported = false;
  let closed = false;
  let unsubscribe: (() => Promise<void>) | undefined;

  // Bypassed until the feed says otherwise (a feed may report 'up' synchronously inside subscribe).
  setLive(false);
  const onStatus = (status: UserChangeStatus) => {
    reported = true;
    if (closed) return;
    // Clear on both: 'up' because changes before it may be lost, 'down' to free what can no longer be served.
    cache.clear();
    setLive(status === 'up');
    if (status === 'down') logger.warn({}, 'user change feed down: user cache bypassed until it recovers');
  };

  const subscribed = new Promise<() => Promise<void>>((resolve) =>
    resolve(
      feed.subscribe(
        (change) => {
          cache.invalidate(change.userId);
          cache.invalidate({ issuer: change.issuer, subject: change.subject });
          onChange?.();
        },
        { onStatus },
      ),
    ),
  ).then(
    async (stop) => {
      if (closed) return stop();
      unsubscribe = stop;
      // A feed that reports no status is up once subscribed.
      if (!reported) onStatus('up');
    },
    (err: unknown) => {
      logger.error(
        { err: describeError(err) },
        'user change feed could not subscribe: the user cache stays bypassed (every request reads the store)',
      );
    },
  );

  return {
    async close() {
      closed = true;
      setLive(false);
      cache.clear();
      await subscribed;
      const stop = unsubscribe;
      unsubscribe = undefined;
      await stop?.();
    },
  };
}
