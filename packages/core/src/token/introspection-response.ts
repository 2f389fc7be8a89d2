import { InvalidTokenError } from '../errors';
import { hasControlCharacters, isIllFormed } from '../identity';
import type { Claims, IssuerConfig } from '../types';
import { clientOf } from './clients';
import type { CheckedIntrospection } from './introspection-config';
import { MAX_INTROSPECTION_CACHE_TTL_MS } from './introspection-config';
import { tokenScopes } from './scopes';
import type { VerifiedToken } from './verified';

// RFC 7662 §2.2: what an `active: true` answer must satisfy before its claims stand for a verified token.

/** What the answer is checked against: the issuer, its checked introspection, and the verifier's clock leeway. */
export interface AnswerContext {
  config: IssuerConfig;
  introspection: CheckedIntrospection;
  clockToleranceSec: number;
}

const audienceList = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.filter((v) => typeof v === 'string')
      : [];

const printable = (value: string) => value.slice(0, 256).replace(/[^\x20-\x7e]/g, '?');

function refuse(reason: ConstructorParameters<typeof InvalidTokenError>[0], issuer: string): never {
  throw new InvalidTokenError(reason, 'The introspection answer does not allow this token', { issuer });
}

/** `exp`, `nbf`, `iat`: numbers when present, and within the clock tolerance of now. */
function checkTimes(answer: Claims, issuer: string, now: number, tolerance: number): void {
  const { exp, nbf, iat } = answer;
  for (const value of [exp, nbf, iat]) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      refuse('invalid_claim', issuer);
    }
  }
  const seconds = now / 1000;
  if (typeof exp === 'number' && seconds >= exp + tolerance) refuse('expired', issuer);
  if (typeof nbf === 'number' && seconds < nbf - tolerance) refuse('not_yet_valid', issuer);
  if (typeof iat === 'number' && iat > seconds + tolerance) refuse('issued_in_future', issuer);
}

/** `aud` checked like a JWT's: one of the configured audiences must be among the answer's. */
function checkAudience(answer: Claims, config: IssuerConfig): void {
  if (config.audience === false || config.audience === undefined) return;
  const expected = audienceList(config.audience);
  if (answer.aud === undefined) refuse('missing_claim', config.issuer);
  const received = audienceList(answer.aud);
  if (received.some((aud) => expected.includes(aud))) return;
  throw new InvalidTokenError('wrong_audience', undefined, {
    issuer: config.issuer,
    mismatch: { claim: 'aud', expected, received: received.slice(0, 5).map(printable) },
  });
}

/**
 * The subject: a user's `sub` checked like a JWT's; an answer without `sub` but with a `client_id` has no
 * resource owner at all (a client-credentials token), and reads as RFC 9068 marks one (`sub` = `client_id`),
 * which the machine-clients rules then recognise.
 */
function subjectOf(answer: Claims, issuer: string): string {
  const { sub } = answer;
  if (sub === undefined) {
    const clientId = answer['client_id'];
    if (typeof clientId === 'string' && clientId.length > 0 && clientId.length <= 255) return clientId;
    refuse('missing_claim', issuer);
  }
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255 || hasControlCharacters(sub)) {
    refuse('invalid_claim', issuer);
  }
  return sub;
}

/**
 * The claims of an `active: true` answer, checked (RFC 7662 §2.2): `iss` when present must be the issuer;
 * `token_type` (and Hydra's `token_use`) when present must name an access token used as a bearer (a DPoP or mTLS bound one carries
 * `cnf`: refused, its proof is not checked here); `aud`, `exp`, `nbf`, `iat` as for a JWT; `scope` a string.
 */
export function answerClaims(
  answer: Claims,
  { config, clockToleranceSec }: AnswerContext,
  now: number,
): Claims {
  const { issuer } = config;
  if (answer.iss !== undefined && answer.iss !== issuer) refuse('invalid_claim', issuer);
  const type = answer['token_type'];
  if (type !== undefined && !(typeof type === 'string' && /^(bearer|access_token)$/i.test(type))) {
    refuse('invalid_claim', issuer);
  }
  if (answer['cnf'] !== undefined) refuse('invalid_claim', issuer);
  // Ory Hydra names the kind of token: a refresh token is never a bearer.
  const use = answer['token_use'];
  if (use !== undefined && use !== 'access_token') refuse('invalid_claim', issuer);
  checkTimes(answer, issuer, now, clockToleranceSec);
  checkAudience(answer, config);
  if (tokenScopes(answer) === null) refuse('invalid_claim', issuer);
  const { active: _active, ...rest } = answer;
  return { ...rest, iss: issuer, sub: subjectOf(answer, issuer) };
}

/**
 * An `active: true` answer as a {@link VerifiedToken}, with how long it may be reused: the earliest of `exp`,
 * `cacheTtlMs` and {@link MAX_INTROSPECTION_CACHE_TTL_MS}. `bytes` is the answer's size, for the cache bound.
 */
export function verifiedFromAnswer(
  answer: Claims,
  context: AnswerContext,
  bytes: number,
  identityOf: (claims: Claims, config: IssuerConfig) => VerifiedToken['identity'],
): VerifiedToken {
  const now = Date.now();
  const { config, introspection } = context;
  const claims = answerClaims(answer, context, now);
  const identity = identityOf(claims, config);
  for (const value of [identity.subject, identity.email, identity.name, identity.tenantId]) {
    if (typeof value === 'string' && isIllFormed(value)) refuse('invalid_claim', config.issuer);
  }
  const { exp, iat } = claims;
  const ttl = Math.min(introspection.cacheTtlMs, MAX_INTROSPECTION_CACHE_TTL_MS);
  const cacheUntil = Math.min(now + ttl, typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY);
  return {
    claims,
    identity,
    issuer: config,
    issuedAt: typeof iat === 'number' ? Math.min(iat * 1000, now) : undefined,
    client: clientOf(claims, config),
    introspected: { cacheUntil, bytes: 512 + 3 * bytes },
  };
}
