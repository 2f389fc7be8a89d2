import { Lru } from './lru';

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Refill rate per key, requests per second. */
  perSecond: number;
  /** Largest burst per key; at least 1. */
  burst: number;
  /** Keys remembered at once (least recently seen forgotten first). */
  maxKeys: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/** Per-key token buckets that never wait: `take` answers at once. */
export interface RateLimiter {
  /** Spend one token of `key`'s bucket: 0 when allowed, else the seconds until a token is back. */
  take(key: string): number;
}

/**
 * A token bucket per key (e.g. per client address) that refuses instead of queueing, unlike the waiting
 * `createTokenBucket` used for outgoing mail. Memory is bounded by `maxKeys`; a forgotten key starts with a
 * full bucket, which is also where an idle key would be by then (entries expire once refilled).
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ perSecond: 0.5, burst: 10, maxKeys: 10_000 });
 * const wait = limiter.take(ip);
 * if (wait > 0) throw new RateLimitedError(wait);
 * ```
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const rate = options.perSecond / 1000;
  const burst = Math.max(1, options.burst);
  const now = options.now ?? Date.now;
  const buckets = new Lru<string, { tokens: number; at: number }>(options.maxKeys);
  return {
    take(key) {
      const t = now();
      const held = buckets.get(key, t);
      const tokens = held === undefined ? burst : Math.min(burst, held.tokens + (t - held.at) * rate);
      if (tokens < 1) {
        buckets.set(key, { tokens, at: t }, t + (burst - tokens) / rate);
        return (1 - tokens) / rate / 1000;
      }
      const left = tokens - 1;
      buckets.set(key, { tokens: left, at: t }, t + (burst - left) / rate);
      return 0;
    },
  };
}
