import { DEFAULT_MAX_TOKEN_BYTES, parseBearer } from './bearer';
import { isJitProvisionError } from './errors';
import { headerValue } from './headers';
import { type HttpResponse, toHttpResponse } from './http';
import type { ProvisionResult } from './provisioner-types';
import { createTokenCache, type TokenCache, type TokenCacheOptions, tokenKey } from './token-cache';
import type { AuthInput, AuthResult, Identity, IssuerConfig, Logger, UserRecord } from './types';
import { createTokenVerifier, type TokenVerifierOptions, type VerifiedToken } from './verifier';

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions extends TokenVerifierOptions {
  issuers: IssuerConfig[];
  ensureUserExists(identity: Identity): Promise<ProvisionResult>;
  /**
   * The user `ensureUserExists(identity)` would answer from its cache, synchronously; undefined when it
   * would go further. Lets a request whose token and user are both cached finish without a promise chain.
   */
  cachedUser?(identity: Identity): UserRecord | undefined;
  /** Store failure: 'reject' (rethrow: 503) or 'continue' with `user: null`. Default 'reject'. */
  onProvisioningError?: 'reject' | 'continue';
  logger?: Logger;
  /** Verified-token cache bounds (default 10,000 tokens, 5 min); `false` verifies every request. */
  cache?: TokenCacheOptions | false;
}

/**
 * Build `authenticate`: read the bearer token → verify it → `ensureUserExists`. Nothing is provisioned
 * for a token that fails verification. With `onProvisioningError: 'continue'`, a store outage yields
 * `user: null` (logged without the token) instead of a 503.
 *
 * @example
 * ```ts
 * const authenticate = createAuthenticator({ issuers, ensureUserExists: provisioner.ensureUserExists });
 * const { user, created } = await authenticate({ headers: request.headers });
 * ```
 */
export function createAuthenticator(
  options: AuthenticatorOptions,
): (input: AuthInput) => Promise<AuthResult> {
  const { ensureUserExists, logger, maxTokenBytes } = options;
  let cache: TokenCache | undefined;
  const verifier = createTokenVerifier(options.issuers, {
    ...options,
    // A key removed by rotation must stop accepting the tokens it signed, cached ones included.
    onKeysRemoved: (issuer) => {
      cache?.dropIssuer(issuer);
      options.onKeysRemoved?.(issuer);
    },
  });
  if (options.cache !== false) {
    cache = createTokenCache(verifier, {
      ...options.cache,
      ...(options.clockToleranceSec === undefined ? {} : { clockToleranceSec: options.clockToleranceSec }),
    });
  }
  const continueOnOutage = options.onProvisioningError === 'continue';
  const max = maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;

  async function provision({ claims, identity }: VerifiedToken): Promise<AuthResult> {
    try {
      const { user, created } = await ensureUserExists(identity);
      return { user, identity, claims, created };
    } catch (err) {
      if (!continueOnOutage || !isJitProvisionError(err) || err.code !== 'provisioning_unavailable')
        throw err;
      logger?.warn(
        { code: err.code, issuer: identity.issuer, subject: identity.subject },
        'store unavailable; continuing without a user',
      );
      return { user: null, identity, claims, created: false };
    }
  }

  // Not `async`: a request whose token and user are cached is answered with one promise and no awaits.
  return (input) => {
    let token: string;
    let key: string | undefined;
    try {
      const value = headerValue(input.headers, 'authorization');
      if (
        cache !== undefined &&
        typeof value === 'string' &&
        value.length <= max + 7 &&
        value.startsWith('Bearer ')
      ) {
        // A hit means these bytes hash like a token that passed the strict parse and the signature check
        // before, so the strict parse (a regex over the whole token) is only run on a miss.
        const candidate = value.slice(7);
        key = tokenKey(candidate);
        const verified = cache.get(key);
        if (verified !== undefined) {
          const user = options.cachedUser?.(verified.identity);
          if (user === undefined) return provision(verified);
          const { identity, claims } = verified;
          return Promise.resolve({ user, identity, claims, created: false });
        }
        token = parseBearer(value, max);
        if (token !== candidate) key = undefined;
      } else {
        token = parseBearer(value, max);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return (cache === undefined ? verifier.verify(token) : cache.verify(token, key)).then(provision);
  };
}

/** Options every adapter's `jitProvision` accepts, with the same meaning in each framework. */
export interface JitProvisionOptions {
  /**
   * Requests for which this returns true pass without authentication (`auth` stays empty).
   * Gets the raw path (no query string, not decoded) and the method. Prefer mounting the middleware
   * only on protected routes; keep `skip` for a few exact public paths.
   */
  skip?: (path: string, method: string) => boolean;
  /** No Authorization header → continue with no `auth`. A present but invalid token is still a 401. */
  optional?: boolean;
}

/** The adapter-facing request: what every framework can hand over cheaply. */
export interface AdapterRequest extends AuthInput {
  /** Raw path without the query string. Only `skip` reads it: an adapter may pass '' when `skip` is unset. */
  path: string;
  method: string;
}

/** What an adapter does next: continue with `auth` (null when skipped or anonymous), or answer `response`. */
export type AdapterOutcome =
  | { ok: true; auth: AuthResult | null }
  | { ok: false; response: HttpResponse; error: unknown };

// Shared by every skipped or anonymous request: frozen, so no adapter can alter what the next one gets.
const ANONYMOUS: AdapterOutcome = Object.freeze({ ok: true, auth: null });

/**
 * The whole of an adapter's decision in one framework-neutral call: skip, optional, authenticate,
 * and the HTTP answer of a failure. Adapters only translate their request in and this outcome out.
 *
 * @example
 * ```ts
 * const outcome = await authenticateRequest(provisioner, { headers, path, method }, { optional: true });
 * if (outcome.ok) ctx.auth = outcome.auth;
 * else send(outcome.response.status, outcome.response.headers, outcome.response.body);
 * ```
 */
export function authenticateRequest(
  provisioner: { authenticate(input: AuthInput): Promise<AuthResult> },
  request: AdapterRequest,
  options: JitProvisionOptions = {},
): Promise<AdapterOutcome> {
  // Not `async`: one promise per request instead of three.
  const failed = (error: unknown): AdapterOutcome =>
    options.optional && isJitProvisionError(error) && error.code === 'missing_token'
      ? ANONYMOUS
      : { ok: false, response: toHttpResponse(error), error };
  try {
    if (options.skip?.(request.path, request.method)) return Promise.resolve(ANONYMOUS);
    return provisioner
      .authenticate({ headers: request.headers })
      .then((auth) => ({ ok: true, auth }), failed);
  } catch (error) {
    return Promise.resolve(failed(error));
  }
}
