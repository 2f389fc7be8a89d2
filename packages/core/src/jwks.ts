import {
  createRemoteJWKSet,
  type ExportedJWKSCache,
  errors,
  type JWKSCacheInput,
  type JWTHeaderParameters,
  type JWTVerifyGetKey,
  jwksCache,
} from 'jose';
import { ConfigurationError, InvalidTokenError, isJitProvisionError } from './errors';
import { nearMiss } from './near-miss';
import type { IssuerConfig } from './types';

/** How long a failed discovery fetch is remembered, so a flood of tokens cannot turn into a flood of fetches. */
const DISCOVERY_RETRY_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;

/** Tuning of remote key fetching; the defaults are jose's (30 s cooldown, 10 min max age). */
export interface JwksOptions {
  /** Least time between two JWKS fetches triggered by an unknown `kid` (jose `cooldownDuration`). */
  cooldownMs?: number;
  /** Refetch the JWKS once it is older than this (jose `cacheMaxAge`). */
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

/** The `jwks_uri` of `issuer`'s OIDC discovery document, which must name `issuer` exactly. */
export async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(checkKeyUrl(url, 'discovery URL'), {
    redirect: 'manual',
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) throw new Error(`discovery answered ${response.status}`);
  const doc = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // OIDC Discovery §4.3: a document naming another issuer must not be trusted (mix-up defence).
  if (doc.issuer !== issuer) {
    const named = typeof doc.issuer === 'string' ? doc.issuer.slice(0, 256) : undefined;
    const near = named === undefined ? undefined : nearMiss(named, [issuer]);
    throw new Error(
      `discovery document names issuer ${JSON.stringify(named ?? null)}, not the configured ${JSON.stringify(issuer)}` +
        (near === undefined
          ? ''
          : ` (they differ only by a ${near.differs}: did you mean ${JSON.stringify(named)}?)`),
    );
  }
  if (typeof doc.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
  return checkKeyUrl(doc.jwks_uri, 'jwks_uri');
}

/**
 * The key resolver of one trusted issuer: HS* tokens use the configured secret, everything else the
 * issuer's JWKS (explicit `jwksUri`, or OIDC discovery fetched once). One jose remote key set per
 * issuer, so its cooldown caps refetches caused by unknown `kid`s. Header `jku`, `x5u` and `jwk` are
 * never consulted: keys come only from configuration.
 *
 * Fetch failures surface as `InvalidTokenError('jwks_unavailable')`: a 401 the client may retry,
 * because we cannot tell a good token from a bad one without keys.
 *
 * @example
 * ```ts
 * const getKey = createIssuerKeyResolver({ issuer: 'https://idp.example.com' });
 * await jwtVerify(token, getKey, { issuer: 'https://idp.example.com', algorithms: ['RS256'] });
 * ```
 */
export function createIssuerKeyResolver(config: IssuerConfig, options: JwksOptions = {}): JWTVerifyGetKey {
  const timeoutMs = options.timeoutMs ?? FETCH_TIMEOUT_MS;
  const secret = typeof config.secret === 'string' ? new TextEncoder().encode(config.secret) : config.secret;
  let remote: ReturnType<typeof createRemoteJWKSet> | undefined;
  let pending: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  let lastFailure: unknown;
  // jose writes every successful fetch here; a new `uat` means the set was refetched.
  const fetched: Partial<ExportedJWKSCache> = {};
  let seenAt: number | undefined;
  let published = new Set<string>();
  const noticeRefetch = () => {
    if (fetched.uat === seenAt) return;
    seenAt = fetched.uat;
    const next = new Set((fetched.jwks?.keys ?? []).map((key) => JSON.stringify(key)));
    const removed = [...published].some((key) => !next.has(key));
    published = next;
    if (removed) options.onKeysRemoved?.(config.issuer);
  };

  const remoteSet = (url: URL) =>
    createRemoteJWKSet(url, {
      [jwksCache]: fetched as JWKSCacheInput,
      timeoutDuration: timeoutMs,
      ...(options.cooldownMs === undefined ? {} : { cooldownDuration: options.cooldownMs }),
      ...(options.cacheMaxAgeMs === undefined ? {} : { cacheMaxAge: options.cacheMaxAgeMs }),
    });

  if (config.jwksUri !== undefined) {
    let url: URL;
    try {
      url = checkKeyUrl(config.jwksUri, 'jwksUri');
    } catch {
      throw new ConfigurationError(
        `jwksUri of ${config.issuer} must be an https URL (http only on loopback)`,
      );
    }
    remote = remoteSet(url);
  }

  const keySet = async () => {
    if (remote !== undefined) return remote;
    if (Date.now() - failedAt < DISCOVERY_RETRY_MS) throw unavailable(lastFailure);
    pending ??= discoverJwksUri(config.issuer, timeoutMs).then(
      (url) => {
        remote = remoteSet(url);
        return remote;
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

  return async (header: JWTHeaderParameters, token) => {
    if (header.alg.startsWith('HS')) {
      // Only reached when the allow-list names HS* (which requires a secret): never a public key as HMAC key.
      if (secret === undefined) throw new errors.JOSEAlgNotAllowed('HMAC is not configured for this issuer');
      return secret;
    }
    let set: ReturnType<typeof createRemoteJWKSet>;
    try {
      set = await keySet();
    } catch (err) {
      throw isJitProvisionError(err, 'invalid_token') ? err : unavailable(err);
    }
    try {
      const key = await set(header, token);
      noticeRefetch();
      return key;
    } catch (err) {
      noticeRefetch();
      if (
        err instanceof errors.JWKSNoMatchingKey ||
        err instanceof errors.JWKSMultipleMatchingKeys ||
        err instanceof errors.JOSENotSupported
      ) {
        throw err; // about the token's kid/alg, not the fetch: the verifier maps it
      }
      throw unavailable(err); // network error, timeout, non-200, invalid JSON
    }
  };
}
