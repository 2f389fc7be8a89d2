import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';
import { ConfigurationError, InvalidTokenError, isJitProvisionError } from '../errors';
import { nearMissHint } from '../internal';
import type { IssuerConfig } from '../types';

/**
 * How long a failed discovery or JWKS fetch is remembered, so a flood of tokens (forged ones included)
 * cannot turn into a flood of fetches while the issuer is down: at most one fetch per issuer per 5 s.
 */
const FAILURE_RETRY_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;
const DEFAULT_COOLDOWN_MS = 30_000;
const DEFAULT_CACHE_MAX_AGE_MS = 600_000;
/**
 * Stale-while-error bound: while refetching fails, the last good key set keeps verifying tokens for up to
 * 24 hours after it was fetched, so a provider's hiccup does not turn every valid token into
 * `jwks_unavailable`. Past that, keys are too old to trust without the issuer's word.
 */
export const JWKS_STALE_MAX_MS = 24 * 60 * 60 * 1000;

/** Tuning of remote key fetching. */
export interface JwksOptions {
  /** Least time between two JWKS fetches triggered by an unknown `kid`. Default 30 s. */
  cooldownMs?: number;
  /**
   * Refetch the JWKS once it is older than this. Default 10 min. While the refetch fails, the last good
   * set is still used, up to {@link JWKS_STALE_MAX_MS} (24 h) after it was fetched.
   */
  cacheMaxAgeMs?: number;
  /** HTTP timeout of discovery and JWKS fetches. */
  timeoutMs?: number;
  /**
   * Called with the issuer when a refetched JWKS no longer holds a key it held before (rotation
   * removed or replaced it), so caches of tokens verified with that key can drop them.
   */
  onKeysRemoved?: (issuer: string) => void;
}

const unavailable = (cause: unknown) =>
  new InvalidTokenError('jwks_unavailable', "The issuer's signing keys could not be fetched", { cause });

/** localhost, 127.0.0.1 or [::1]: the only hosts where plain http is accepted for keys and issuers. */
export function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}

/** Key URLs must be https; plain http only on loopback (dev issuers, tests). */
export function checkKeyUrl(raw: string, what: string): URL {
  const url = new URL(raw);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw new Error(`${what} must be https`);
  }
  return url;
}

/**
 * `issuer`'s OIDC discovery document, which must name `issuer` exactly (OIDC Discovery §4.3: a document
 * naming another issuer must not be trusted, the mix-up defence).
 */
export async function discoverMetadata(issuer: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(checkKeyUrl(url, 'discovery URL'), {
    redirect: 'manual',
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) throw new Error(`discovery answered ${response.status}`);
  const doc = (await response.json()) as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null || doc['issuer'] !== issuer) {
    const named = typeof doc?.['issuer'] === 'string' ? doc['issuer'].slice(0, 256) : undefined;
    const near = named === undefined ? undefined : nearMissHint(named, [issuer], 'issuer');
    throw new Error(
      `discovery document names issuer ${JSON.stringify(named ?? null)}, not the configured ${JSON.stringify(issuer)}` +
        (near === undefined ? '' : ` (${near.hint})`),
    );
  }
  return doc;
}

/** The `jwks_uri` of `issuer`'s OIDC discovery document, which must name `issuer` exactly. */
export async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<URL> {
  const doc = await discoverMetadata(issuer, timeoutMs);
  const jwksUri = doc['jwks_uri'];
  if (typeof jwksUri !== 'string') throw new Error('discovery document has no jwks_uri');
  return checkKeyUrl(jwksUri, 'jwks_uri');
}

async function fetchJwks(url: URL, timeoutMs: number): Promise<JSONWebKeySet> {
  const response = await fetch(url, {
    redirect: 'manual',
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) throw new Error(`JWKS answered ${response.status}`);
  const jwks = (await response.json()) as { keys?: unknown };
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) {
    throw new Error('JWKS document has no keys');
  }
  return jwks as JSONWebKeySet;
}

/** One fetch at a time, and none for `FAILURE_RETRY_MS` after a failure (which is rethrown meanwhile). */
function throttled<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  let lastFailure: unknown;
  return () => {
    if (pending !== undefined) return pending;
    if (Date.now() - failedAt < FAILURE_RETRY_MS) return Promise.reject(lastFailure);
    pending = load().then(
      (value) => {
        pending = undefined;
        return value;
      },
      (err: unknown) => {
        failedAt = Date.now();
        lastFailure = err;
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}

/**
 * The key resolver of one trusted issuer: HS* tokens use the configured secret, everything else the
 * issuer's JWKS (explicit `jwksUri`, or OIDC discovery fetched once), held as a jose local key set that
 * this module refreshes itself:
 * - at most one fetch in flight per issuer, and after a failed fetch (discovery or JWKS) none for 5 s,
 *   so forged tokens naming a trusted issuer cannot make us hammer it while it is down;
 * - an unknown `kid` refetches at most once per `cooldownMs`;
 * - a set older than `cacheMaxAgeMs` is refetched; while that fails, the last good set keeps working for
 *   up to {@link JWKS_STALE_MAX_MS} (stale-while-error).
 * Header `jku`, `x5u` and `jwk` are never consulted: keys come only from configuration.
 *
 * Fetch failures with no usable key set surface as `InvalidTokenError('jwks_unavailable')`: a 401 the
 * client may retry, because we cannot tell a good token from a bad one without keys.
 *
 * @example
 * ```ts
 * const getKey = createIssuerKeyResolver({ issuer: 'https://idp.example.com' });
 * await jwtVerify(token, getKey, { issuer: 'https://idp.example.com', algorithms: ['RS256'] });
 * ```
 */
export function createIssuerKeyResolver(config: IssuerConfig, options: JwksOptions = {}): JWTVerifyGetKey {
  const timeoutMs = options.timeoutMs ?? FETCH_TIMEOUT_MS;
  const cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  const cacheMaxAgeMs = options.cacheMaxAgeMs ?? DEFAULT_CACHE_MAX_AGE_MS;
  const secret = typeof config.secret === 'string' ? new TextEncoder().encode(config.secret) : config.secret;

  let jwksUrl: URL | undefined;
  if (config.jwksUri !== undefined) {
    try {
      jwksUrl = checkKeyUrl(config.jwksUri, 'jwksUri');
    } catch {
      throw new ConfigurationError(
        `jwksUri of ${config.issuer} must be an https URL (http only on loopback)`,
      );
    }
  }
  const discover = throttled(async () => {
    jwksUrl ??= await discoverJwksUri(config.issuer, timeoutMs);
    return jwksUrl;
  });

  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let published = new Set<string>();
  const refresh = throttled(async () => {
    const url = jwksUrl ?? (await discover());
    const jwks = await fetchJwks(url, timeoutMs);
    const next = createLocalJWKSet(jwks); // throws on an invalid set: a failed fetch like any other
    const ids = new Set(jwks.keys.map((key) => JSON.stringify(key)));
    const removed = [...published].some((key) => !ids.has(key));
    keys = next;
    fetchedAt = Date.now();
    published = ids;
    if (removed) options.onKeysRemoved?.(config.issuer);
    return next;
  });

  /** The key set to verify with: fresh if possible, else the last good one within the stale bound. */
  async function currentKeys(): Promise<ReturnType<typeof createLocalJWKSet>> {
    const age = Date.now() - fetchedAt;
    if (keys !== undefined && age <= cacheMaxAgeMs) return keys;
    try {
      return await refresh();
    } catch (err) {
      if (keys !== undefined && age <= JWKS_STALE_MAX_MS) return keys;
      throw isJitProvisionError(err, 'invalid_token') ? err : unavailable(err);
    }
  }

  /** An unknown kid may be a freshly rotated key: refetch, at most once per cooldown. */
  async function retryUnknownKid(err: unknown, header: JWTHeaderParameters, token: FlattenedJWSInput) {
    if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() - fetchedAt < cooldownMs) throw err;
    let fresh: ReturnType<typeof createLocalJWKSet>;
    try {
      fresh = await refresh();
    } catch (cause) {
      throw unavailable(cause);
    }
    return fresh(header, token);
  }

  async function withCurrentKeys(header: JWTHeaderParameters, token: FlattenedJWSInput) {
    const set = await currentKeys();
    return set(header, token).catch((err: unknown) => retryUnknownKid(err, header, token));
  }

  // Not `async`: with a fresh key set (nearly every call) the key is one promise away, as with jose's own
  // local key set, instead of three nested async frames.
  return (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
    if (header.alg.startsWith('HS')) {
      // Only reached when the allow-list names HS* (which requires a secret): never a public key as HMAC key.
      if (secret === undefined)
        return Promise.reject(new errors.JOSEAlgNotAllowed('HMAC is not configured for this issuer'));
      return secret;
    }
    if (keys !== undefined && Date.now() - fetchedAt <= cacheMaxAgeMs) {
      return keys(header, token).catch((err: unknown) => retryUnknownKid(err, header, token));
    }
    return withCurrentKeys(header, token);
  };
}
