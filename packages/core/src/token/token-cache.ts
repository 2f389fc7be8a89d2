import { Lru, positive } from '../internal';
import { tokenKey } from './token-key';
import type { TokenVerifier, VerifiedToken } from './verifier';

export { tokenKey } from './token-key';

/**
 * Default bounds of the verified-token cache: 10,000 tokens and 16 MiB (estimated), each kept at most 5 minutes
 * (and never past `exp`).
 */
export const DEFAULT_TOKEN_CACHE = {
  maxEntries: 10_000,
  ttlMs: 300_000,
  maxBytes: 16 * 1024 * 1024,
} as const;

/**
 * Estimated heap bytes of one cached token: a fixed part (key, map slot, entry, identity) plus three bytes per
 * character of the payload segment, which the claims are decoded from. Measured (benchmark 6 and the shapes
 * in bench/README.md): claims take 0.8–2.7 heap bytes per payload character, the most for many small nested
 * objects (Keycloak's `resource_access`); only a payload of mostly empty objects or arrays takes more.
 */
export function tokenEntryBytes(token: string): number {
  return 512 + 3 * (token.lastIndexOf('.') - token.indexOf('.'));
}

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  /** Most tokens kept; the least recently used is evicted first. Default 10,000. */
  maxEntries?: number;
  /** Longest a verified token is served from the cache, ms. Default 5 minutes. */
  ttlMs?: number;
  /**
   * Most heap the cached tokens may take, bytes, as estimated from each token's length (the claims are
   * decoded from it). Default 16 MiB: ~5,500 typical 1.2 KB tokens (Keycloak), ~350 of 14 KB.
   */
  maxBytes?: number;
  /** The verifier's `exp` leeway, seconds (default 5); a hit is never served past `exp` + this. */
  clockToleranceSec?: number;
}

/** A {@link TokenVerifier} that remembers verified tokens. */
export interface TokenCache extends TokenVerifier {
  /**
   * Verify `token`; `key` is its {@link tokenKey} when the caller already computed it (saves hashing twice).
   */
  verify(token: string, key?: string): Promise<VerifiedToken>;
  /** The cached verification of the token whose {@link tokenKey} is `key`, without any I/O; exp is checked. */
  get(key: string): VerifiedToken | undefined;
  /**
   * Forget every cached token of `issuer`. The key resolver calls it when a refetched JWKS no longer
   * holds a key it held before, so a token signed by a removed key stops being accepted at once.
   */
  dropIssuer(issuer: string): void;
  /** Forget every cached token. */
  clear(): void;
  /** Tokens currently held (expired entries included until they are read or evicted). */
  readonly size: number;
  /** Estimated bytes of the tokens held (see {@link TokenCacheOptions.maxBytes}). */
  readonly bytes: number;
}

interface Entry {
  verified: VerifiedToken;
  /** The issuer's key generation when the token was verified; a later rotation makes the entry stale. */
  generation: number;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Wrap a token verifier with a bounded cache of verified tokens and single-flight verification.
 *
 * - Keyed by the SHA-256 of the token (the token itself is never stored or logged).
 * - Bounded by `maxEntries` and by `maxBytes`, estimated from each token's length; when either is reached,
 *   the oldest entry not read since the eviction hand last passed goes first (second chance, close to LRU).
 * - An entry lives until the earliest of `exp` (+ clock tolerance), `ttlMs`, and a rotation of its
 *   issuer's keys ({@link TokenCache.dropIssuer}); a hit skips the signature check, never the `exp` check.
 * - Failures are never cached: a rejected token is verified (and rejected) again on every request.
 * - Concurrent verifications of one uncached token share one signature check.
 *
 * Cached claims are shared by every request that carries the same token, so they are frozen.
 *
 * @example
 * ```ts
 * const verifier = createTokenCache(createTokenVerifier(issuers), { maxEntries: 5_000, ttlMs: 60_000 });
 * const { identity, claims } = await verifier.verify(token); // second call with `token`: no signature check
 * ```
 */
export function createTokenCache(verifier: TokenVerifier, options: TokenCacheOptions = {}): TokenCache {
  const maxEntries = positive(options.maxEntries, DEFAULT_TOKEN_CACHE.maxEntries, 'cache.maxEntries');
  const ttlMs = positive(options.ttlMs, DEFAULT_TOKEN_CACHE.ttlMs, 'cache.ttlMs');
  const toleranceMs = (options.clockToleranceSec ?? 5) * 1000;
  const maxBytes = positive(options.maxBytes, DEFAULT_TOKEN_CACHE.maxBytes, 'cache.maxBytes');
  const entries = new Lru<string, Entry>(maxEntries, maxBytes);
  const inflight = new Map<string, Promise<VerifiedToken>>();
  const generations = new Map<string, number>();
  // Bumped by every rotation: a verification that straddles one is not cached (it may predate the new keys).
  let epoch = 0;

  const generationOf = (issuer: string) => generations.get(issuer) ?? 0;

  function remember(key: string, bytes: number, verified: VerifiedToken, startedEpoch: number): void {
    const { exp } = verified.claims;
    const { introspected } = verified;
    if (startedEpoch !== epoch) return;
    const now = Date.now();
    let expiresAt: number;
    if (introspected !== undefined) {
      // An introspection answer is reused no longer than its issuer's `cacheTtlMs` allows (and never past `exp`).
      expiresAt = Math.min(introspected.cacheUntil, now + ttlMs);
      bytes = introspected.bytes;
    } else {
      if (typeof exp !== 'number') return;
      // jose accepts while floor(now / 1000) < exp + tolerance; `now < (exp + tolerance) * 1000` is the same
      // bound (stricter for a fractional exp), so a hit is never served later than the verifier would accept.
      expiresAt = Math.min(exp * 1000 + toleranceMs, now + ttlMs);
    }
    // A token bigger than the whole bound would only evict everything else and then itself.
    if (expiresAt <= now || bytes > maxBytes) return;
    entries.set(
      key,
      { verified: deepFreeze(verified), generation: generationOf(verified.issuer.issuer) },
      expiresAt,
      bytes,
    );
  }

  function get(key: string): VerifiedToken | undefined {
    const hit = entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.generation === generationOf(hit.verified.issuer.issuer)) return hit.verified;
    entries.delete(key);
    return undefined;
  }

  function verify(
    token: string,
    key = typeof token === 'string' ? tokenKey(token) : '',
  ): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) return verifier.verify(token);
    const hit = get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const running = inflight.get(key);
    if (running !== undefined) return running;
    const startedEpoch = epoch;
    const flight = verifier.verify(token).then(
      (verified) => {
        inflight.delete(key);
        remember(key, tokenEntryBytes(token), verified, startedEpoch);
        return verified;
      },
      (err: unknown) => {
        inflight.delete(key);
        throw err;
      },
    );
    inflight.set(key, flight);
    return flight;
  }

  return {
    verify,
    get,
    dropIssuer(issuer) {
      generations.set(issuer, generationOf(issuer) + 1);
      epoch++;
    },
    clear() {
      entries.clear();
      epoch++;
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return entries.weight;
    },
  };
}
