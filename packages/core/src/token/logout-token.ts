import { decodeProtectedHeader, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { InvalidTokenError, type InvalidTokenReason, isJitProvisionError } from '../errors';
import { hasControlCharacters } from '../identity';
import type { Claims, IssuerConfig } from '../types';

/** The `events` member that makes a JWT a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What a valid logout token asks for: end the sessions of `sub`, of `sid`, or both. */
export interface LogoutRequest {
  issuer: string;
  jti: string;
  /** `iat`, ms. */
  issuedAt: number;
  /** Until when this `jti` must be remembered (no token this old is accepted after), ms. */
  replayUntil: number;
  sub?: string;
  sid?: string;
}

/** One trusted issuer as the logout-token check needs it. */
export interface LogoutIssuer {
  config: IssuerConfig;
  algorithms: readonly string[];
  getKey: JWTVerifyGetKey;
}

/** `typ` values accepted on a logout token: explicit typing (§2.4) or a plain JWT. */
const TYPES = new Set(['logout+jwt', 'application/logout+jwt', 'jwt', 'application/jwt']);

/** A claim value we keep (jti, sub, sid): 1–255 characters, no control characters. */
function text(claims: Claims, name: string, required: boolean): string | undefined {
  const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 255 || hasControlCharacters(value)) {
    throw new InvalidTokenError(value === undefined ? 'missing_claim' : 'invalid_claim', `bad ${name} claim`);
  }
  return value;
}

function reasonOf(err: unknown): InvalidTokenReason {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'wrong_audience';
    return err.reason === 'missing' ? 'missing_claim' : 'invalid_claim';
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm_not_allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return 'unknown_key';
  return 'malformed';
}

/** The §2.6 checks on the claims jose verified (signature, alg, iss, aud, exp): iat, events, nonce, sub/sid, jti. */
function checkClaims(claims: Claims, issuer: string, toleranceSec: number, maxAgeSec: number): LogoutRequest {
  const now = Date.now();
  const { iat } = claims;
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    throw new InvalidTokenError('missing_claim', 'no iat claim');
  if (iat * 1000 > now + toleranceSec * 1000)
    throw new InvalidTokenError('issued_in_future', 'issued in the future');
  if (iat * 1000 < now - (maxAgeSec + toleranceSec) * 1000)
    throw new InvalidTokenError('expired', 'issued too long ago');
  const events = Object.hasOwn(claims, 'events') ? claims['events'] : undefined;
  const event =
    typeof events === 'object' &&
    events !== null &&
    !Array.isArray(events) &&
    Object.hasOwn(events, BACKCHANNEL_LOGOUT_EVENT)
      ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT]
      : undefined;
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new InvalidTokenError('invalid_claim', 'not a logout token (events)');
  if (Object.hasOwn(claims, 'nonce'))
    throw new InvalidTokenError('invalid_claim', 'a logout token has no nonce');
  const jti = text(claims, 'jti', true) as string;
  const sub = text(claims, 'sub', false);
  const sid = text(claims, 'sid', false);
  if (sub === undefined && sid === undefined)
    throw new InvalidTokenError('missing_claim', 'neither sub nor sid');
  const out: LogoutRequest = {
    issuer,
    jti,
    issuedAt: iat * 1000,
    replayUntil: (iat + maxAgeSec + 2 * toleranceSec) * 1000,
  };
  if (sub !== undefined) out.sub = sub;
  if (sid !== undefined) out.sid = sid;
  return out;
}

/**
 * Validate a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6) from an issuer chosen
 * by its unverified `iss`: the signature from the issuer's JWKS with an allowed algorithm, `iss`, `aud` =
 * the registered `clientId`, `iat` present and neither in the future nor older than `maxAgeSec` (both
 * within the tolerance), `exp` when present, the logout `events` member with an object value, no `nonce`,
 * `sub` or `sid`, a `jti`, and a `typ` that is `logout+jwt` or plain JWT. Replay (`jti`) is the caller's.
 * Every failure is an {@link InvalidTokenError}.
 */
export async function verifyLogoutToken(
  token: string,
  issuer: LogoutIssuer,
  options: { clockToleranceSec: number; maxAgeSec: number },
): Promise<LogoutRequest> {
  const { config } = issuer;
  const clientId = config.backchannelLogout?.clientId;
  if (clientId === undefined)
    throw new InvalidTokenError('untrusted_issuer', 'no back-channel logout for this issuer');
  let claims: Claims;
  try {
    const typ = decodeProtectedHeader(token).typ;
    if (typ !== undefined && (typeof typ !== 'string' || !TYPES.has(typ.toLowerCase())))
      throw new InvalidTokenError('invalid_claim', 'not a logout token (typ)');
    const verified = await jwtVerify(token, issuer.getKey, {
      issuer: config.issuer,
      audience: clientId,
      algorithms: [...issuer.algorithms],
      clockTolerance: options.clockToleranceSec,
    });
    claims = verified.payload as Claims;
  } catch (err) {
    if (isJitProvisionError(err, 'invalid_token')) throw err;
    throw new InvalidTokenError(reasonOf(err), 'invalid logout token', { issuer: config.issuer });
  }
  return checkClaims(claims, config.issuer, options.clockToleranceSec, options.maxAgeSec);
}
