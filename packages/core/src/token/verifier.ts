import { decodeJwt, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import {
  InvalidTokenError,
  type InvalidTokenReason,
  isJitProvisionError,
  UntrustedIssuerError,
} from '../errors';
import { hasControlCharacters, isIllFormed } from '../identity';
import type { ClaimName, Claims, Identity, IssuerConfig, Logger } from '../types';
import { clientOf } from './clients';
import { createIntrospector } from './introspection';
import { asCheckedIssuers, type CheckedIssuers } from './issuers';
import { createIssuerKeyResolver, type JwksOptions } from './jwks';
import { type LogoutRequest, verifyLogoutToken } from './logout-token';
import { mappedRole } from './role-claims';
import type { VerifiedToken } from './verified';

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions extends JwksOptions {
  /**
   * The bound on outbound introspection calls of all issuers together, for tokens no cache answers
   * (default 50 a second, bursts of 100); past it such tokens get 503 `provisioning_unavailable`.
   */
  introspectionRate?: { perSecond: number; burst?: number };
  /** Leeway for `exp`/`nbf`/`iat`, seconds (default 5). */
  clockToleranceSec?: number;
  /** Largest accepted token, bytes (default 16 KiB). */
  maxTokenBytes?: number;
  /** Where the start-up warning of an issuer with `audience: false` goes (default: console). */
  logger?: Logger;
}

export type { VerifiedToken } from './verified';

/** Verifies bearer JWTs against a fixed list of trusted issuers. */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/** A {@link TokenVerifier} that also validates back-channel logout tokens with the same issuers and keys. */
export interface TokenAndLogoutVerifier extends TokenVerifier {
  /** See `verifyLogoutToken`. */
  verifyLogout(token: string, maxAgeSec: number): Promise<LogoutRequest>;
}

interface TrustedIssuer {
  config: IssuerConfig;
  algorithms: string[];
  getKey: JWTVerifyGetKey;
}

/** Three base64url segments (the signature may be empty): the shape of a JWS; anything else is opaque. */
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** An attacker-controlled claim value made safe to log: printable, at most 256 characters. */
const printable = (value: string) => value.slice(0, 256).replace(/[^\x20-\x7e]/g, '?');

/** The `aud` a token carried, as logged: strings only, at most 5. */
function receivedAudience(aud: unknown): string[] {
  const values = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
  return values.slice(0, 5).map((value) => (typeof value === 'string' ? printable(value) : typeof value));
}

/** A configured `audience` as a list (none configured: empty). */
const asList = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.filter((v): v is string => typeof v === 'string')
      : [];

function reasonOf(err: unknown): InvalidTokenReason {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' && err.reason === 'check_failed') return 'not_yet_valid';
    if (err.claim === 'aud' && err.reason === 'check_failed') return 'wrong_audience';
    if (err.reason === 'missing') return 'missing_claim';
    return 'invalid_claim';
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm_not_allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return 'unknown_key';
  }
  return 'malformed';
}

/**
 * What a refused token's error may carry as `cause`: jose's error names and code, never the error itself,
 * whose `payload` holds every claim (email, phone…) of the refused token, and apps log `err.cause`.
 */
function claimFreeCause(err: unknown): Error {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  // Stackless, as the refusal it explains: a stack captured here would only name this function.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const cause = new Error(typeof code === 'string' ? code : 'token verification failed');
  Error.stackTraceLimit = limit;
  if (err instanceof Error) cause.name = err.name;
  return cause;
}

/** The claim at `name` (own properties only, so `__proto__` and friends read as absent). */
function claimAt(claims: Claims, name: ClaimName): unknown {
  if (typeof name === 'string') return Object.hasOwn(claims, name) ? claims[name] : undefined;
  let value: unknown = claims;
  for (const key of name) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Map verified claims to an {@link Identity}, reading profile claims where the issuer's `claims` option
 * says; profile claims of the wrong type are dropped, not trusted.
 *
 * @example
 * ```ts
 * identityFromClaims({ iss, sub: 'u1', 'https://example.com/email': 'a@example.com' },
 *   { issuer: iss, claims: { email: 'https://example.com/email' } }); // → { issuer, subject: 'u1', email: 'a@example.com' }
 * ```
 */
export function identityFromClaims(claims: Claims, config: IssuerConfig): Identity {
  const identity: Identity = { issuer: config.issuer, subject: claims.sub as string };
  const names = config.claims ?? {};
  const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const email = str(claimAt(claims, names.email ?? 'email'));
  if (email !== undefined) identity.email = email;
  const verified = claimAt(claims, names.emailVerified ?? 'email_verified');
  if (typeof verified === 'boolean') identity.emailVerified = verified;
  else if (verified === 'true' || verified === 'false') identity.emailVerified = verified === 'true';
  const name = str(claimAt(claims, names.name ?? 'name'));
  if (name !== undefined) identity.name = name;
  const tenant = claimAt(claims, config.tenantClaim ?? 'tenant_id');
  if (typeof tenant === 'string') identity.tenantId = tenant;
  else if (typeof tenant === 'number' && Number.isSafeInteger(tenant)) identity.tenantId = String(tenant);
  if (config.externalIdClaim !== undefined) {
    const external = claimAt(claims, config.externalIdClaim);
    if (typeof external === 'string' && external.length > 0) identity.externalId = external;
  }
  // Once per verified token (a cached token keeps its identity), so the cache-hit path compares one string.
  if (config.roles !== undefined) {
    const role = mappedRole(claimAt(claims, config.roles.claim), config.roles, config.issuer);
    if (role !== undefined) identity.providerRole = role;
  }
  return identity;
}

/**
 * Create a verifier for bearer JWTs from the given trusted issuers. The unverified `iss` only picks
 * the issuer's configuration (exact match); everything else is checked against that configuration:
 * signature from its JWKS, `aud` (every issuer needs `audience`, or an explicit `audience: false`), an algorithm allow-list (asymmetric only unless the
 * issuer has a `secret` and names HS*), `exp` required, `nbf`, an `iat` no later than now (both within the
 * clock tolerance), and a `sub` of 1–255 characters.
 * Every failure is an {@link InvalidTokenError} with a precise `reason`; the token is never echoed.
 *
 * @example
 * ```ts
 * const verifier = createTokenVerifier([{ issuer: 'https://sso.example.com/realms/main', audience: 'api' }]);
 * const { identity, claims } = await verifier.verify(token);
 * ```
 */
export function createTokenVerifier(
  issuers: readonly IssuerConfig[] | CheckedIssuers,
  options: TokenVerifierOptions = {},
): TokenAndLogoutVerifier {
  const checked = asCheckedIssuers(issuers, options);
  const { clockToleranceSec: clockTolerance, maxTokenBytes } = checked;
  const trusted = new Map<string, TrustedIssuer>();
  for (const { config, algorithms } of checked.issuers) {
    trusted.set(config.issuer, {
      config,
      algorithms: [...algorithms],
      getKey: createIssuerKeyResolver(config, options),
    });
  }
  const introspector = createIntrospector(checked.issuers, {
    clockToleranceSec: clockTolerance,
    timeoutMs: options.timeoutMs,
    rate: options.introspectionRate,
    keysOf: (issuer) => trusted.get(issuer),
    identityOf: identityFromClaims,
  });

  async function verify(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) throw new InvalidTokenError('malformed');
    if (token.length > maxTokenBytes)
      throw new InvalidTokenError('too_large', 'The access token is too large');
    // An opaque token: only an issuer's introspection endpoint can vouch for it.
    if (introspector !== undefined && !JWS_SHAPE.test(token)) return introspector.introspect(token);
    let unverified: Claims;
    try {
      unverified = decodeJwt(token);
    } catch (cause) {
      throw new InvalidTokenError('malformed', 'The access token is not a JWT', { cause });
    }
    const { iss } = unverified;
    const issuer = typeof iss === 'string' ? trusted.get(iss) : undefined;
    if (issuer === undefined) {
      // Attacker-controlled: kept short and printable for whoever logs it.
      throw new UntrustedIssuerError(typeof iss === 'string' ? printable(iss) : undefined, [
        ...trusted.keys(),
      ]);
    }
    const { config } = issuer;
    let claims: Claims;
    try {
      const verified = await jwtVerify(token, issuer.getKey, {
        issuer: config.issuer,
        algorithms: issuer.algorithms,
        clockTolerance,
        requiredClaims: ['exp', 'sub'],
        ...(config.audience === false || config.audience === undefined ? {} : { audience: config.audience }),
      });
      claims = verified.payload as Claims;
    } catch (err) {
      if (isJitProvisionError(err, 'invalid_token')) throw err;
      const reason = reasonOf(err);
      const mismatch =
        reason === 'wrong_audience'
          ? ({
              claim: 'aud',
              expected: asList(config.audience),
              received: receivedAudience(unverified.aud),
            } as const)
          : undefined;
      throw new InvalidTokenError(reason, undefined, {
        cause: claimFreeCause(err),
        issuer: config.issuer,
        ...(mismatch === undefined ? {} : { mismatch }),
      });
    }
    const now = Date.now();
    const { iat, sub } = claims;
    // jose checks `iat` is a number but not when: a token issued ahead of this clock would outlive a sign-out.
    if (typeof iat === 'number' && iat > Math.floor(now / 1000) + clockTolerance) {
      throw new InvalidTokenError('issued_in_future', 'The token was issued in the future', {
        issuer: config.issuer,
      });
    }
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255 || hasControlCharacters(sub)) {
      throw new InvalidTokenError('invalid_claim', 'The token subject is invalid');
    }
    const identity = identityFromClaims(claims, config);
    // A lone surrogate cannot be stored faithfully (UTF-8 turns it into U+FFFD): two subjects would share a row.
    for (const value of [identity.subject, identity.email, identity.name, identity.tenantId]) {
      if (typeof value === 'string' && isIllFormed(value)) {
        throw new InvalidTokenError('invalid_claim', 'The token has a claim that is not well-formed UTF-16', {
          issuer: config.issuer,
        });
      }
    }
    return {
      claims,
      identity,
      issuer: config,
      issuedAt: typeof iat === 'number' ? Math.min(iat * 1000, now) : undefined,
      // Always set, so every cached token has one shape on the hit path.
      client: clientOf(claims, config),
      introspected: undefined,
    };
  }

  async function verifyLogout(token: string, maxAgeSec: number): Promise<LogoutRequest> {
    if (typeof token !== 'string' || token.length === 0) throw new InvalidTokenError('malformed');
    if (token.length > maxTokenBytes) throw new InvalidTokenError('too_large');
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new InvalidTokenError('malformed', 'not a JWT');
    }
    const issuer = typeof iss === 'string' ? trusted.get(iss) : undefined;
    if (issuer === undefined) throw new InvalidTokenError('untrusted_issuer', 'untrusted issuer');
    return verifyLogoutToken(token, issuer, { clockToleranceSec: clockTolerance, maxAgeSec });
  }

  return { verify, verifyLogout };
}
