import { decodeJwt } from 'jose';
import { InvalidTokenError, isJitProvisionError } from '../errors';
import { headerValue } from '../internal';
import { signedOutSince } from '../lifecycle';
import type { Telemetry } from '../telemetry';
import {
  asCheckedIssuers,
  type CheckedIssuers,
  createDiagnostics,
  createTokenCache,
  createTokenVerifier,
  type LogoutRequest,
  parseBearer,
  type TokenCache,
  type TokenCacheOptions,
  type TokenVerifierOptions,
  tokenKey,
  type VerifiedToken,
} from '../token';
import type {
  AuthClient,
  AuthInput,
  AuthResult,
  ClientAuthResult,
  Identity,
  IssuerConfig,
  Logger,
  UserRecord,
} from '../types';
import type { SessionRevocations } from './sessions';
import type { ProvisionResult } from './types';
import { createUserinfo } from './userinfo';

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions extends TokenVerifierOptions {
  /** The trusted issuers: as the provisioner's options checked them, or raw (then checked here). */
  issuers: readonly IssuerConfig[] | CheckedIssuers;
  ensureUserExists(identity: Identity): Promise<ProvisionResult>;
  /**
   * The user `ensureUserExists(identity)` would answer from its cache, synchronously; undefined when it
   * would go further. Lets a request whose token and user are both cached finish without a promise chain.
   */
  cachedUser?(identity: Identity): UserRecord | undefined;
  /** The stored user of an identity, for `userinfo: 'first-login'` (is this login the first?). */
  findUser?(identity: Identity): Promise<UserRecord | null>;
  /** Store failure: 'reject' (rethrow: 503) or 'continue' with `user: null`. Default 'reject'. */
  onProvisioningError?: 'reject' | 'continue';
  logger?: Logger;
  /** Verified-token cache bounds (default 10,000 tokens, 5 min); `false` verifies every request. */
  cache?: TokenCacheOptions | false;
  /** Counts outcomes (`stats()`) and, when OpenTelemetry is on, traces verification. */
  telemetry?: Telemetry;
  /** Sessions ended by back-channel logout: a token whose issuer has `backchannelLogout` and whose `sid` is here is refused. */
  sessions?: SessionRevocations;
}

/** What {@link createAuthenticator} builds: the full path, and the synchronous answer of a full cache hit. */
export interface Authenticator {
  /** Read the bearer token → verify it (or find it in the token cache) → `ensureUserExists`. */
  authenticate(input: AuthInput): Promise<AuthResult>;
  /**
   * The answer `authenticate` would give, synchronously, when the token and its user are both cached and
   * still good; undefined for anything else (a miss, a revoked token, a disabled user, a profile change).
   * `authorization` is the header's value as `headerValue` reads it (an array when repeated).
   */
  cached(authorization: string | string[] | undefined): AuthResult | undefined;
  /** Validate a back-channel logout token with the same trusted issuers and keys. */
  verifyLogout(token: string, maxAgeSec: number): Promise<LogoutRequest>;
}

/**
 * Signed out everywhere: "issued" is the earlier of `iat` and when this process first verified the token
 * (`VerifiedToken.issuedAt`), so a provider clock ahead of the database's cannot carry a token seen before
 * the sign-out past it.
 */
const revoked = (user: UserRecord | null, { issuedAt }: VerifiedToken): boolean =>
  signedOutSince(user, issuedAt);

/**
 * A machine client's answer: no row is looked up, created or touched (no hooks, no `lastSeenAt`), so there is
 * nothing to revoke or disable either; the token's own checks (signature, exp, audience) are the whole story.
 */
const clientResult = ({ identity, claims }: VerifiedToken, client: AuthClient): ClientAuthResult => ({
  kind: 'client',
  client,
  user: null,
  identity,
  claims,
  created: false,
});

/** The `sid` a revoked-session check applies to: its issuer takes back-channel logout and it carries one. */
function sessionOf({ issuer, claims }: VerifiedToken): string | undefined {
  if (issuer.backchannelLogout === undefined) return undefined;
  const sid = claims['sid'];
  return typeof sid === 'string' ? sid : undefined;
}

/**
 * Whether a back-channel logout ended the token's session: true, false, or undefined when only the store can
 * tell (its change feed is down). Synchronous, for the cache-hit paths: two Map reads with the feed up.
 */
function sessionEnded(
  sessions: SessionRevocations | undefined,
  verified: VerifiedToken,
): boolean | undefined {
  const sid = sessions === undefined ? undefined : sessionOf(verified);
  return sid === undefined ? false : sessions?.check(verified.identity.issuer, sid);
}

/** {@link sessionEnded} for the full path: the store answers what memory cannot. */
async function sessionEndedNow(sessions: SessionRevocations, verified: VerifiedToken): Promise<boolean> {
  const sid = sessionOf(verified);
  return sid !== undefined && (await sessions.isRevoked(verified.identity.issuer, sid));
}

/** The verifier, and the verified-token cache in front of it (undefined with `cache: false`). */
function verification(
  options: AuthenticatorOptions,
  issuers: CheckedIssuers,
): {
  verifier: ReturnType<typeof createTokenVerifier>;
  cache: TokenCache | undefined;
} {
  let cache: TokenCache | undefined;
  const verifier = createTokenVerifier(issuers, {
    ...options,
    // A key removed by rotation must stop accepting the tokens it signed, cached ones included.
    onKeysRemoved: (issuer) => {
      cache?.dropIssuer(issuer);
      options.onKeysRemoved?.(issuer);
    },
  });
  if (options.cache !== false) {
    cache = createTokenCache(verifier, { ...options.cache, clockToleranceSec: issuers.clockToleranceSec });
  }
  return { verifier, cache };
}

/** The `iss` of a refused token, for the logs, only when it is a trusted one: any other value is the caller's choice. */
function trustedIssuerNamer(
  checked: CheckedIssuers,
): (token: string, refusal?: unknown) => string | undefined {
  const trusted = new Set(checked.issuers.map(({ config }) => config.issuer));
  return (token, refusal) => {
    // A refusal the verifier raised after picking the issuer names it already: no second decode of the token.
    if (isJitProvisionError(refusal, 'invalid_token')) {
      if (refusal.reason === 'untrusted_issuer') return undefined;
      if (refusal.issuer !== undefined && trusted.has(refusal.issuer)) return refusal.issuer;
    }
    try {
      const { iss } = decodeJwt(token);
      return typeof iss === 'string' && trusted.has(iss) ? iss : undefined;
    } catch {
      return undefined;
    }
  };
}

/**
 * The one cache-hit rule, for both hit paths: the answer for a cached token whose user is cached too and
 * not revoked; REVOKED for a cached user who signed out everywhere after the token was issued (SESSION_REVOKED
 * for a token whose `sid` a back-channel logout ended); undefined when the user is not cached (or the cache may
 * not serve, or only the store can tell). exp is checked by `cache.get`, a disabled user and a profile change by
 * `cachedUser`. A machine client's token is answered from the token alone.
 */
function cacheHitRule({ cachedUser, sessions, telemetry }: AuthenticatorOptions) {
  return (verified: VerifiedToken): AuthResult | typeof REVOKED | typeof SESSION_REVOKED | undefined => {
    if (verified.client !== undefined) return clientResult(verified, verified.client);
    const user = cachedUser?.(verified.identity);
    if (user === undefined) return undefined;
    const { identity, claims } = verified;
    if (revoked(user, verified)) return REVOKED;
    const ended = sessionEnded(sessions, verified);
    if (ended !== false) return ended === undefined ? undefined : SESSION_REVOKED;
    telemetry?.served(identity, user.id);
    return { kind: 'user', user, identity, claims, created: false };
  };
}

/**
 * Build `authenticate`: read the bearer token → verify it → `ensureUserExists`. Nothing is provisioned
 * for a token that fails verification. With `onProvisioningError: 'continue'`, a store outage yields
 * `user: null` (logged without the token) instead of a 503.
 *
 * @example
 * ```ts
 * const { authenticate } = createAuthenticator({ issuers, ensureUserExists: provisioner.ensureUserExists });
 * const { user, created } = await authenticate({ headers: request.headers });
 * ```
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { ensureUserExists, logger, telemetry, sessions } = options;
  const checked = asCheckedIssuers(options.issuers, options);
  const { verifier, cache } = verification(options, checked);
  const continueOnOutage = options.onProvisioningError === 'continue';
  const max = checked.maxTokenBytes;
  // A refused token or a failing store is a bare 401/503 to the client; the operator learns why here.
  const diagnostics = logger === undefined ? undefined : createDiagnostics(logger);
  const trustedIssuerOf = trustedIssuerNamer(checked);
  const refused = (reason: 'token_revoked' | 'session_revoked') => {
    const err = new InvalidTokenError(reason);
    telemetry?.refused(err);
    return err;
  };

  // Only built when an issuer asks for userinfo: every other login provisions with the token's identity as is.
  const profileOf = checked.issuers.some(
    ({ config }) => config.userinfo === 'first-login' || config.userinfo === 'always',
  )
    ? createUserinfo({
        timeoutMs: options.timeoutMs,
        cachedUser: options.cachedUser,
        findUser: options.findUser,
      })
    : undefined;

  async function provision(verified: VerifiedToken, token: string): Promise<AuthResult> {
    const { claims, client } = verified;
    if (client !== undefined) {
      telemetry?.ok();
      return clientResult(verified, client);
    }
    if (sessions !== undefined && (await sessionEndedNow(sessions, verified)))
      throw refused('session_revoked');
    const identity = profileOf === undefined ? verified.identity : await profileOf(verified, token);
    let result: ProvisionResult;
    try {
      result = await ensureUserExists(identity);
    } catch (err) {
      const continuing = continueOnOutage && isJitProvisionError(err, 'provisioning_unavailable');
      diagnostics?.note(err, { issuer: identity.issuer, continuing });
      telemetry?.refused(err);
      if (!continuing) throw err;
      return { kind: 'user', user: null, identity, claims, created: false };
    }
    const { user, created } = result;
    if (revoked(user, verified)) throw refused('token_revoked');
    telemetry?.ok();
    return { kind: 'user', user, identity, claims, created };
  }

  const noteRefusal = (token: string) => (err: unknown) => {
    diagnostics?.note(err, { issuer: trustedIssuerOf(token, err) });
    telemetry?.refused(err);
    throw err;
  };

  /** The cache key of a header value that may carry a cached token: one `Bearer ` value within the size bound. */
  const candidateKey = (value: string | string[] | undefined): string | undefined =>
    cache !== undefined && typeof value === 'string' && value.length <= max + 7 && value.startsWith('Bearer ')
      ? tokenKey(value.slice(7))
      : undefined;

  const servedFromCache = cacheHitRule(options);

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
      key = candidateKey(value);
      if (key !== undefined) {
        // A hit means these bytes hash like a token that passed the strict parse and the signature check
        // before, so the strict parse (a regex over the whole token) is only run on a miss.
        const verified = cache?.get(key);
        if (verified !== undefined) {
          const served = servedFromCache(verified);
          if (served === REVOKED) return refuse(new InvalidTokenError('token_revoked'));
          if (served === SESSION_REVOKED) return refuse(new InvalidTokenError('session_revoked'));
          if (served !== undefined) return Promise.resolve(served);
          telemetry?.tokenHit();
          // `key` was computed from a `Bearer ` value: the token is what follows.
          return provision(verified, (value as string).slice(7));
        }
        telemetry?.tokenMiss();
      }
      token = parseBearer(value, max);
      // The hash was of the header's bytes after `Bearer `; a token the strict parse reads differently
      // (surrounding spaces) must not be cached under it.
      if (key !== undefined && `Bearer ${token}` !== value) key = undefined;
    } catch (err) {
      return refuse(err);
    }
    const verify = () => (cache === undefined ? verifier.verify(token) : cache.verify(token, key));
    const traced = telemetry?.traceVerify;
    return (traced === undefined ? verify() : traced(verify, () => trustedIssuerOf(token))).then(
      (verified) => provision(verified, token),
      noteRefusal(token),
    );
  };

  // The synchronous hit path: the same rule, with anything but a served answer left to `authenticate`.
  const cached = (authorization: string | string[] | undefined): AuthResult | undefined => {
    if (options.cachedUser === undefined) return undefined;
    const key = candidateKey(authorization);
    const verified = key === undefined ? undefined : cache?.get(key);
    const served = verified === undefined ? undefined : servedFromCache(verified);
    return served === REVOKED || served === SESSION_REVOKED ? undefined : served;
  };
  return { authenticate, cached, verifyLogout: verifier.verifyLogout };
}

/** What {@link servedFromCache} answers for a cached user whose sessions were revoked after the token. */
const REVOKED = Symbol('revoked');
/** What {@link servedFromCache} answers for a token whose `sid` a back-channel logout ended. */
const SESSION_REVOKED = Symbol('session_revoked');
