import { decodeJwt } from 'jose';
import { DEFAULT_MAX_TOKEN_BYTES, parseBearer } from './bearer';
import { createDiagnostics } from './diagnostics';
import { InvalidTokenError, isJitProvisionError } from './errors';
import { headerValue } from './headers';
import { type HttpResponse, toHttpResponse } from './http';
import type { ProvisionResult } from './provisioner-types';
import type { Telemetry } from './telemetry';
import { createTokenCache, type TokenCache, type TokenCacheOptions, tokenKey } from './token-cache';
import type { AuthInput, AuthResult, Claims, Identity, IssuerConfig, Logger, UserRecord } from './types';
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
  /** Counts outcomes (`stats()`) and, when OpenTelemetry is on, traces verification. */
  telemetry?: Telemetry;
}

/**
 * Signed out everywhere: a token issued before the user's `tokensValidAfter` (or one that cannot say when it
 * was issued) is refused. Two field reads on the row, no allocation. `undefined` is a custom store that
 * predates the lifecycle: nothing was ever revoked there.
 */
function revoked(user: UserRecord | null, claims: Claims): boolean {
  const validAfter = user?.tokensValidAfter;
  return validAfter != null && !(typeof claims.iat === 'number' && claims.iat * 1000 >= validAfter.getTime());
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
  const { ensureUserExists, logger, maxTokenBytes, telemetry } = options;
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
  // A refused token or a failing store is a bare 401/503 to the client; the operator learns why here.
  const diagnostics = logger === undefined ? undefined : createDiagnostics(logger);
  const trusted = new Set(options.issuers.map((config) => config.issuer));
  // Only a trusted `iss` may name a log key: any other value is the caller's choice.
  const trustedIssuerOf = (token: string) => {
    try {
      const { iss } = decodeJwt(token);
      return typeof iss === 'string' && trusted.has(iss) ? iss : undefined;
    } catch {
      return undefined;
    }
  };

  async function provision({ claims, identity }: VerifiedToken): Promise<AuthResult> {
    let result: ProvisionResult;
    try {
      result = await ensureUserExists(identity);
    } catch (err) {
      const continuing = continueOnOutage && isJitProvisionError(err, 'provisioning_unavailable');
      diagnostics?.note(err, { issuer: identity.issuer, continuing });
      telemetry?.refused(err);
      if (!continuing) throw err;
      return { user: null, identity, claims, created: false };
    }
    const { user, created } = result;
    if (revoked(user, claims)) {
      const err = new InvalidTokenError('token_revoked');
      telemetry?.refused(err);
      throw err;
    }
    telemetry?.ok();
    return { user, identity, claims, created };
  }

  const noteRefusal = (token: string) => (err: unknown) => {
    diagnostics?.note(err, { issuer: trustedIssuerOf(token) });
    telemetry?.refused(err);
    throw err;
  };

  /**
   * The answer to a request whose token and user are both cached and still good, synchronously; undefined
   * for anything else (a miss, a refused or revoked token, a disabled user, a profile change), which the
   * full path below then decides. exp is checked by `cache.get`, revocation here, disabled by `cachedUser`.
   */
  const cachedHit = (value: string | string[] | undefined): AuthResult | undefined => {
    if (cache === undefined || options.cachedUser === undefined) return undefined;
    if (typeof value !== 'string' || value.length > max + 7 || !value.startsWith('Bearer ')) return undefined;
    const verified = cache.get(tokenKey(value.slice(7)));
    if (verified === undefined) return undefined;
    const user = options.cachedUser(verified.identity);
    if (user === undefined || revoked(user, verified.claims)) return undefined;
    telemetry?.served(verified.identity, user.id);
    return { user, identity: verified.identity, claims: verified.claims, created: false };
  };

  const refuse = (err: unknown) => {
    telemetry?.refused(err);
    return Promise.reject(err);
  };

  // Not `async`: a request whose token and user are cached is answered with one promise and no awaits.
  const authenticate = (input: AuthInput): Promise<AuthResult> => {
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
          if (user === undefined) {
            telemetry?.tokenHit();
            return provision(verified);
          }
          const { identity, claims } = verified;
          if (revoked(user, claims)) return refuse(new InvalidTokenError('token_revoked'));
          telemetry?.served(identity, user.id);
          return Promise.resolve({ user, identity, claims, created: false });
        }
        telemetry?.tokenMiss();
        token = parseBearer(value, max);
        if (token !== candidate) key = undefined;
      } else {
        token = parseBearer(value, max);
      }
    } catch (err) {
      return refuse(err);
    }
    const verify = () => (cache === undefined ? verifier.verify(token) : cache.verify(token, key));
    const traced = telemetry?.traceVerify;
    return (traced === undefined ? verify() : traced(verify, () => trustedIssuerOf(token))).then(
      provision,
      noteRefusal(token),
    );
  };
  cachedHits.set(authenticate, cachedHit);
  return authenticate;
}

/** Each authenticator's synchronous full-hit path, found by the function a provisioner exposes as `authenticate`. */
const cachedHits = new WeakMap<
  object,
  (authorization: string | string[] | undefined) => AuthResult | undefined
>();

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
  /**
   * The Authorization header exactly as `headerValue(headers, 'authorization')` would read it (an array when
   * repeated), when the adapter already has it; the synchronous hit path then skips searching `headers`.
   */
  authorization?: string | string[] | undefined;
}

/** What an adapter does next: continue with `auth` (null when skipped or anonymous), or answer `response`. */
export type AdapterOutcome =
  | { ok: true; auth: AuthResult | null }
  | { ok: false; response: HttpResponse; error: unknown };

// Shared by every skipped or anonymous request: frozen, so no adapter can alter what the next one gets.
const ANONYMOUS: AdapterOutcome = Object.freeze({ ok: true, auth: null });

/**
 * The outcome of a request that needs no I/O and no promise, or undefined when the adapter must call
 * {@link authenticateRequest}: a skipped request, or one whose token and user are both cached and still
 * valid (exp, revocation and disabled status checked as on every path). Lets an adapter continue
 * synchronously on the common request; anything else (misses, failures, `optional`) goes the full way.
 *
 * @example
 * ```ts
 * const now = authenticateCachedRequest(provisioner, request, options);
 * if (now?.ok) { ctx.auth = now.auth; return next(); }
 * const outcome = await authenticateRequest(provisioner, request, options);
 * ```
 */
export function authenticateCachedRequest(
  provisioner: { authenticate(input: AuthInput): Promise<AuthResult> },
  request: AdapterRequest,
  options: JitProvisionOptions = {},
): AdapterOutcome | undefined {
  try {
    if (options.skip?.(request.path, request.method)) return ANONYMOUS;
    const hit = cachedHits.get(provisioner.authenticate);
    if (hit === undefined) return undefined;
    // An adapter that already read the header hands it over: no search through every header name.
    const auth = hit(
      'authorization' in request ? request.authorization : headerValue(request.headers, 'authorization'),
    );
    return auth === undefined ? undefined : { ok: true, auth };
  } catch {
    // The full path raises the same failure again and answers it.
    return undefined;
  }
}

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
