import { ConfigurationError } from '../errors';
import { clientKey, createRateLimiter, positive } from '../internal';

/** `adminApi`'s `peekRateLimit`: per client, then one bucket for every client together. */
export interface PeekRateLimitOptions {
  /** Per client: requests refilled per second (default 0.5, i.e. 30 a minute). */
  perSecond?: number;
  /** Per client: the bucket's size (default 10). */
  burst?: number;
  /** Clients remembered at once (default 10,000; the least recently seen is forgotten first). */
  maxClients?: number;
  /**
   * Leading bits of an IPv6 address that make one client (default 64, 1–128): one host usually owns a whole
   * /64, and keyed by full address it could spend 2^64 buckets. IPv4-mapped addresses count as IPv4.
   */
  ipv6Prefix?: number;
  /**
   * One bucket behind the per-client ones, for all clients together (default a burst of 100 refilled at 5 a
   * second), so a flood from many addresses is bounded too; `false` turns it off.
   */
  global?: { perSecond?: number; burst?: number } | false;
}

/** The peek limit: `take(ip)` is 0 when allowed, else the seconds to wait. */
export interface PeekLimiter {
  take(ip: string | undefined): number;
}

/**
 * The rate limit of the public `GET /invitations/peek`, from `adminApi`'s `peekRateLimit` (checked at
 * start-up): a per-client bucket keyed by {@link clientKey} (IPv6 by its /64, mapped IPv4 unmapped), then a
 * global bucket that every allowed request also spends from. A request the client's own bucket refuses does
 * not touch the global one, so one noisy client cannot drain it for everyone.
 *
 * @example
 * ```ts
 * const limiter = createPeekLimiter({ burst: 10, global: { perSecond: 5, burst: 100 } });
 * const wait = limiter?.take(request.ip);
 * if (wait) throw new RateLimitedError(wait);
 * ```
 */
export function createPeekLimiter(
  options: PeekRateLimitOptions | false | undefined,
): PeekLimiter | undefined {
  if (options === false) return undefined;
  const limit = options ?? {};
  const ipv6Prefix = limit.ipv6Prefix ?? 64;
  if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 1 || ipv6Prefix > 128)
    throw new ConfigurationError('peekRateLimit.ipv6Prefix must be a whole number from 1 to 128');
  const perClient = createRateLimiter({
    perSecond: positive(limit.perSecond, 0.5, 'peekRateLimit.perSecond'),
    burst: Math.floor(positive(limit.burst, 10, 'peekRateLimit.burst')),
    maxKeys: Math.floor(positive(limit.maxClients, 10_000, 'peekRateLimit.maxClients')),
  });
  const global = limit.global ?? {};
  const all =
    global === false
      ? undefined
      : createRateLimiter({
          perSecond: positive(global.perSecond, 5, 'peekRateLimit.global.perSecond'),
          burst: Math.floor(positive(global.burst, 100, 'peekRateLimit.global.burst')),
          maxKeys: 1,
        });
  return {
    take(ip) {
      const wait = perClient.take(clientKey(ip, { ipv6Prefix }));
      return wait > 0 ? wait : (all?.take('') ?? 0);
    },
  };
}
