import * as crypto from 'node:crypto';
import { Lru } from './lru';
import { positive } from './positive';
import type { TokenVerifier, VerifiedToken } from './verifier';

/** Default bounds of the verified-token cache: 10,000 tokens, each kept at most 5 minutes (and never past `exp`). */
export const DEFAULT_TOKEN_CACHE = { maxEntries: 10_000, ttlMs: 300_000 } as const;

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  /** Most tokens kept; the least recently used is evicted first. Default 10,000. */
  maxEntries?: number;
  /** Longest a verified token is served from the cache, ms. Default 5 minutes. */
  ttlMs?: number;
  /** The verifier's `exp` leeway, seconds (default 5); a hit is never served past `exp` + this. */
  clockToleranceSec?: number;
}

/** A {@link TokenVerifier} that remembers verified tokens. */
export interface TokenCache extends TokenVerifier {
  /**
   * Forget every cached token of `issuer`. The key resolver calls it when a refetched JWKS no longer
   * holds a key it held before, so a token signed by a removed key stops being accepted at once.
   */
  dropIssuer(issuer: string): void;
  /** Forget every cached token. */
  clear(): void;
  /** Tokens currently held (expired entries included until they are read or evicted). */
  readonly size: number;
}

interface Entry {
  verified: VerifiedToken;
  /** The issuer's key generation when the token was verified; a later rotation makes the entry stale. */
  generation: number;
}

// Node ≥ 20.12 has the one-shot `crypto.hash` (~2 µs for a 1 KiB token, 4× faster than createHash).
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'base64url') => string }).hash;
const keyOf: (token: string) => string =
  typeof oneShot === 'function'
    ? (token) => oneShot('sha256', token, 'base64url')
    : (token) => crypto.createHash('sha256').update(token).digest('base64url');

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
  const entries = new Lru<string, Entry>(maxEntries);
  const inflight = new Map<string, Promise<VerifiedToken>>();
  const generations = new Map<string, number>();
  // Bumped by every rotation: a verification that straddles one is not cached (it may predate the new keys).
  let epoch = 0;

  const generationOf = (issuer: string) => generations.get(issuer) ?? 0;

  function remember(key: string, verified: VerifiedToken, startedEpoch: number): void {
    const { exp } = verified.claims;
    if (typeof exp !== 'number' || startedEpoch !== epoch) return;
    const now = Date.now();
    // jose accepts while floor(now / 1000) < exp + tolerance; `now < (exp + tolerance) * 1000` is the same
    // bound (stricter for a fractional exp), so a hit is never served later than the verifier would accept.
    const expiresAt = Math.min(exp * 1000 + toleranceMs, now + ttlMs);
    if (expiresAt <= now) return;
    entries.set(
      key,
      { verified: deepFreeze(verified), generation: generationOf(verified.issuer.issuer) },
      expiresAt,
    );
  }

  function verify(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) return verifier.verify(token);
    const key = keyOf(token);
    const hit = entries.get(key);
    if (hit !== undefined) {
      if (hit.generation === generationOf(hit.verified.issuer.issuer)) return Promise.resolve(hit.verified);
      entries.delete(key);
    }
    const running = inflight.get(key);
    if (running !== undefined) return running;
    const startedEpoch = epoch;
    const flight = verifier.verify(token).then(
      (verified) => {
        inflight.delete(key);
        remember(key, verified, startedEpoch);
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
  };
}
