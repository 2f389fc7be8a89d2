import { decodeJwt } from 'jose';
import { readBearerToken } from './bearer';
import { createDiagnostics } from './diagnostics';
import { InvalidTokenError, isJitProvisionError } from './errors';
import { type HttpResponse, toHttpResponse } from './http';
import type { ProvisionResult } from './provisioner-types';
import { createTokenCache, type TokenCache, type TokenCacheOptions } from './token-cache';
import type { AuthInput, AuthResult, Identity, IssuerConfig, Logger } from './types';
import { createTokenVerifier, type TokenVerifierOptions } from './verifier';

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions extends TokenVerifierOptions {
  issuers: IssuerConfig[];
  ensureUserExists(identity: Identity): Promise<ProvisionResult>;
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
  const tokens = cache ?? verifier;
  const continueOnOutage = options.onProvisioningError === 'continue';
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

  return async (input) => {
    const token = readBearerToken(input.headers, maxTokenBytes);
    let verified: Awaited<ReturnType<typeof tokens.verify>>;
    try {
      verified = await tokens.verify(token);
    } catch (err) {
      diagnostics?.note(err, { issuer: trustedIssuerOf(token) });
      throw err;
    }
    const { claims, identity } = verified;
    let result: ProvisionResult;
    try {
      result = await ensureUserExists(identity);
    } catch (err) {
      const continuing = continueOnOutage && isJitProvisionError(err, 'provisioning_unavailable');
      diagnostics?.note(err, { issuer: identity.issuer, continuing });
      if (!continuing) throw err;
      return { user: null, identity, claims, created: false };
    }
    const { user, created } = result;
    // Signed out everywhere: a token issued before the revocation (or one that cannot say when it was
    // issued) is refused. Two field reads on the cached row, no allocation, on the way through. `undefined`
    // is a custom store that predates the lifecycle: nothing was ever revoked there.
    const validAfter = user.tokensValidAfter;
    if (validAfter != null && !(typeof claims.iat === 'number' && claims.iat * 1000 >= validAfter.getTime()))
      throw new InvalidTokenError('token_revoked');
    return { user, identity, claims, created };
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
export async function authenticateRequest(
  provisioner: { authenticate(input: AuthInput): Promise<AuthResult> },
  request: AdapterRequest,
  options: JitProvisionOptions = {},
): Promise<AdapterOutcome> {
  try {
    if (options.skip?.(request.path, request.method)) return { ok: true, auth: null };
    return { ok: true, auth: await provisioner.authenticate({ headers: request.headers }) };
  } catch (error) {
    if (options.optional && isJitProvisionError(error) && error.code === 'missing_token')
      return { ok: true, auth: null };
    return { ok: false, response: toHttpResponse(error), error };
  }
}
