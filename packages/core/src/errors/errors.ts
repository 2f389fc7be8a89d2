/**
 * Every error this SDK raises is a {@link JitProvisionError}: a stable literal `code`, an HTTP `status`,
 * and optional response `headers`. `toHttpResponse` (http.ts) is the one place that turns them into
 * responses, so adapters never decide statuses themselves.
 */

/** Every `code` a {@link JitProvisionError} can carry. Tests and callers branch on these, never on messages. */
export type ErrorCode =
  | 'missing_token'
  | 'invalid_token'
  | 'invalid_request'
  | 'invalid_identity'
  | 'user_not_provisioned'
  | 'user_not_found'
  | 'forbidden'
  | 'insufficient_scope'
  | 'user_disabled'
  | 'policy_rejected'
  | 'email_domain_not_allowed'
  | 'email_not_verified'
  | 'invitation_required'
  | 'invitation_invalid'
  | 'invitation_expired'
  | 'invitation_consumed'
  | 'invitation_revoked'
  | 'invitation_email_mismatch'
  | 'reservation_conflict'
  | 'provisioning_unavailable'
  | 'invalid_api_key'
  | 'payload_too_large'
  | 'not_found'
  | 'user_exists'
  | 'invalid_field'
  | 'rate_limited'
  | 'last_admin'
  | 'configuration_error';

/** Why a token was refused; never sent to the client (it would help an attacker), but logged and testable. */
export type InvalidTokenReason =
  | 'malformed'
  | 'too_large'
  | 'untrusted_issuer'
  | 'bad_signature'
  | 'unknown_key'
  | 'algorithm_not_allowed'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'missing_claim'
  | 'invalid_claim'
  | 'jwks_unavailable'
  | 'token_revoked';

/**
 * A token refused over its `iss` or `aud`: what the configuration expects and what the token carried
 * (printable, cut to 256 characters, at most 5 values). For server-side logs only, never sent to the client.
 */
export interface ClaimMismatch {
  claim: 'iss' | 'aud';
  expected: readonly string[];
  received: readonly string[];
}

/** Why the store is unavailable: `schema_not_migrated` (tables or columns missing), `unreachable`, or `failed`. */
export type StoreUnavailableReason = 'unreachable' | 'schema_not_migrated' | 'failed';

/**
 * Brand on every {@link JitProvisionError}. `Symbol.for` makes it the same symbol in every copy of this package
 * (an ESM app next to a CommonJS store loads core twice), so the brand survives where `instanceof` does not.
 */
const ERROR_BRAND = Symbol.for('jit-provision.error');

/** Extra parts of a {@link JitProvisionError}: the underlying error, and headers its HTTP answer carries. */
export interface JitProvisionErrorOptions {
  /** The error that caused this one; logged server-side, never sent to the client. */
  cause?: unknown;
  /** Headers of the HTTP answer, e.g. `WWW-Authenticate` or `Retry-After`. */
  headers?: Record<string, string>;
}

/**
 * Base class of every error raised by jit-provision.
 *
 * @example
 * ```ts
 * try {
 *   await provisioner.authenticate({ headers });
 * } catch (err) {
 *   // By brand and code: `instanceof` fails when two copies of core are loaded (ESM app, CJS store).
 *   if (isJitProvisionError(err, 'user_not_provisioned')) {
 *     // show the "ask an admin for access" page
 *   }
 * }
 * ```
 */
export class JitProvisionError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, status: number, message: string, options: JitProvisionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.headers = options.headers ?? {};
    Object.defineProperty(this, ERROR_BRAND, { value: true });
  }

  /** The `error` value sent in HTTP bodies. Subclasses may collapse codes so a caller cannot probe state. */
  get publicCode(): string {
    return this.code;
  }

  /**
   * The `error_description` sent in HTTP bodies of 4xx answers. Subclasses whose message may name another
   * user's data (a store's conflict message) answer a fixed text instead.
   */
  get publicMessage(): string {
    return this.message;
  }
}

/**
 * No credentials at all (RFC 6750 §3.1: no error attribute in the challenge).
 *
 * @example
 * ```ts
 * if (err instanceof MissingTokenError) res.status(err.status).set(err.headers).end();
 * ```
 */
export class MissingTokenError extends JitProvisionError {
  constructor(message = 'Authorization bearer token required') {
    super('missing_token', 401, message, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

/**
 * The bearer token is malformed, expired, badly signed, for another audience, from an untrusted issuer,
 * or uses a forbidden algorithm. `reason` tells which, for logs and tests; clients only see `invalid_token`.
 *
 * @example
 * ```ts
 * if (err instanceof InvalidTokenError && err.reason === 'expired') metrics.expiredTokens++;
 * ```
 */
export class InvalidTokenError extends JitProvisionError {
  readonly reason: InvalidTokenReason;
  /** The issuer the token named, when known (untrusted ones shortened). No other claim of a refused token is kept. */
  readonly issuer: string | undefined;
  /** For `wrong_audience` and `untrusted_issuer`: expected vs received values, for server logs. */
  readonly mismatch: ClaimMismatch | undefined;

  constructor(
    reason: InvalidTokenReason,
    message = 'The access token is invalid',
    options: { cause?: unknown; issuer?: string; mismatch?: ClaimMismatch } = {},
  ) {
    const { issuer, mismatch, ...rest } = options;
    super('invalid_token', 401, message, {
      ...rest,
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    });
    this.reason = reason;
    this.issuer = issuer;
    this.mismatch = mismatch;
  }
}

/**
 * The token's `iss` is not in the trusted issuer list.
 *
 * @example
 * ```ts
 * if (err instanceof UntrustedIssuerError) log.warn({ issuer: err.issuer }, 'token from unknown issuer');
 * ```
 */
export class UntrustedIssuerError extends InvalidTokenError {
  /** `trusted`: the configured issuers, so logs can show what was expected. */
  constructor(issuer: string | undefined, trusted: readonly string[] = []) {
    super('untrusted_issuer', 'The token issuer is not trusted', {
      ...(issuer === undefined ? {} : { issuer }),
      mismatch: { claim: 'iss', expected: trusted, received: issuer === undefined ? [] : [issuer] },
    });
  }
}

/**
 * A malformed request that is not about the token itself (e.g. a webhook body that is not JSON).
 *
 * @example
 * ```ts
 * throw new InvalidRequestError('body must be a JSON object');
 * ```
 */
export class InvalidRequestError extends JitProvisionError {
  constructor(message = 'The request is malformed') {
    super('invalid_request', 400, message);
  }
}

/**
 * An identity that cannot be stored: empty or over-long issuer/subject/email, control characters.
 * Raised before anything is written.
 *
 * @example
 * ```ts
 * await expect(provisioner.ensureUserExists({ issuer: '', subject: 'x' })).rejects.toMatchObject({ code: 'invalid_identity' });
 * ```
 */
export class InvalidIdentityError extends JitProvisionError {
  readonly field: string;

  constructor(field: string, message: string) {
    super('invalid_identity', 400, message);
    this.field = field;
  }
}

/**
 * The token is valid but no local user exists and `autoCreate` is off.
 *
 * @example
 * ```ts
 * const provisioner = createProvisioner({ store, issuers, autoCreate: false });
 * // unknown users → 403 { "error": "user_not_provisioned" }
 * ```
 */
export class UserNotProvisionedError extends JitProvisionError {
  constructor(message = 'No local user exists for this identity') {
    super('user_not_provisioned', 403, message);
  }
}

/**
 * `setRole` or an admin call named a user id that does not exist.
 *
 * @example
 * ```ts
 * await provisioner.setRole('nope', 'admin'); // throws UserNotFoundError
 * ```
 */
export class UserNotFoundError extends JitProvisionError {
  constructor(message = 'User not found') {
    super('user_not_found', 404, message);
  }
}

/**
 * The caller is authenticated but may not do this: a missing role or permission, a claim check that failed,
 * or no usable local user. HTTP 403 `forbidden`. The message never names what was required, so a refusal
 * does not tell a caller which roles exist.
 *
 * @example
 * ```ts
 * if (auth.user?.role !== 'admin') throw new ForbiddenError();
 * ```
 */
export class ForbiddenError extends JitProvisionError {
  constructor(message = 'Access denied', options: { cause?: unknown } = {}) {
    super('forbidden', 403, message, options);
  }
}

/**
 * The user exists but is disabled (`provisioner.disable`): every request is refused until `enable`.
 *
 * @example
 * ```ts
 * await provisioner.disable(userId, { reason: 'left the company' });
 * // their next request → 403 { "error": "user_disabled" }
 * ```
 */
export class UserDisabledError extends JitProvisionError {
  constructor(message = 'This user is disabled') {
    super('user_disabled', 403, message);
  }
}

/**
 * The access token lacks a scope the route requires (RFC 6750 §3.1): HTTP 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="<required>"`. Unlike roles, the required
 * scopes are named in the challenge on purpose: the client needs them to ask for a better token.
 *
 * @example
 * ```ts
 * throw new InsufficientScopeError(['read:orders']);
 * // 403, WWW-Authenticate: Bearer error="insufficient_scope", scope="read:orders"
 * ```
 */
export class InsufficientScopeError extends JitProvisionError {
  /** The scopes the route requires, as named in the challenge. */
  readonly scopes: readonly string[];

  /** `scopes` must be RFC 6749 scope tokens (no space, `"` or `\`); `requireScopes` checks that at start-up. */
  constructor(scopes: readonly string[], message = 'The access token lacks a required scope') {
    super('insufficient_scope', 403, message, {
      headers: {
        'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"`,
      },
    });
    this.scopes = scopes;
  }
}

/** Codes a policy may refuse with. */
export type PolicyCode = Extract<
  ErrorCode,
  'policy_rejected' | 'email_domain_not_allowed' | 'email_not_verified' | 'invitation_required'
>;

/**
 * A before-create policy refused the first login. HTTP 403 with the policy's own code.
 *
 * @example
 * ```ts
 * const onlyStaff: Policy = {
 *   name: 'onlyStaff',
 *   beforeCreate: ({ identity }) => {
 *     if (!identity.email?.endsWith('@corp.com')) throw new PolicyRejectedError('policy_rejected', 'staff only');
 *   },
 * };
 * ```
 */
export class PolicyRejectedError extends JitProvisionError {
  constructor(
    code: PolicyCode = 'policy_rejected',
    message = 'Provisioning refused by policy',
    options: { cause?: unknown } = {},
  ) {
    super(code, 403, message, options);
  }
}

/** Codes of invitation failures. */
export type InvitationErrorCode = Extract<
  ErrorCode,
  | 'invitation_invalid'
  | 'invitation_expired'
  | 'invitation_consumed'
  | 'invitation_revoked'
  | 'invitation_email_mismatch'
>;

/** Every {@link InvitationErrorCode}, for code-based checks such as {@link isJitProvisionError}. */
export const INVITATION_ERROR_CODES: readonly InvitationErrorCode[] = [
  'invitation_invalid',
  'invitation_expired',
  'invitation_consumed',
  'invitation_revoked',
  'invitation_email_mismatch',
];

/**
 * An invitation token that cannot be used. `code` says why (for the app and its tests); HTTP answers
 * collapse every reason to `invalid_invitation` so callers cannot probe which emails were invited.
 *
 * @example
 * ```ts
 * try { await invitations.consume({ token, email }); }
 * catch (err) { if (err instanceof InvalidInvitationError && err.code === 'invitation_expired') askForANewOne(); }
 * ```
 */
export class InvalidInvitationError extends JitProvisionError {
  constructor(code: InvitationErrorCode = 'invitation_invalid', message = 'The invitation is not valid') {
    super(code, 403, message);
  }

  override get publicCode(): string {
    return 'invalid_invitation';
  }
}

/**
 * Another caller holds a live reservation for this identity (createUser mode). The provisioner
 * waits for the holder instead of surfacing this, unless the wait runs out.
 *
 * @example
 * ```ts
 * try { await store.reservations?.reserve(key, { leaseMs: 10_000 }); }
 * catch (err) { if (isJitProvisionError(err, 'reservation_conflict')) await sleep(50); }
 * ```
 */
export class ReservationConflictError extends JitProvisionError {
  /** When the current holder's lease runs out, if the store knows. */
  readonly expiresAt: Date | undefined;

  constructor(message = 'The identity is being provisioned by another caller', expiresAt?: Date) {
    super('reservation_conflict', 409, message);
    this.expiresAt = expiresAt;
  }

  /**
   * Always this fixed text: a store's message may name the username or id another identity holds, and
   * the caller must not learn it.
   */
  override get publicMessage(): string {
    return 'The user could not be provisioned: it conflicts with another user or a login in progress';
  }
}

/**
 * The store could not be reached or failed. Adapters answer 503 with `Retry-After`
 * (or continue without a user when `onProvisioningError: 'continue'`).
 *
 * @example
 * ```ts
 * pool.query(sql).catch((cause) => { throw new StoreUnavailableError('database unreachable', { cause, reason: 'unreachable' }); });
 * ```
 */
export class StoreUnavailableError extends JitProvisionError {
  /**
   * Why, as far as the store can tell; core logs a hint for it (`schema_not_migrated` → run the migrations).
   * Stores set it where they map driver errors; the default is `failed`.
   */
  readonly reason: StoreUnavailableReason;

  constructor(
    message = 'User provisioning is temporarily unavailable',
    options: { cause?: unknown; retryAfterSeconds?: number; reason?: StoreUnavailableReason } = {},
  ) {
    super('provisioning_unavailable', 503, message, {
      cause: options.cause,
      headers: { 'Retry-After': String(options.retryAfterSeconds ?? 5) },
    });
    this.reason = options.reason ?? 'failed';
  }
}

/**
 * A webhook call without the right shared secret.
 *
 * @example
 * ```ts
 * // POST /kratos/check-invitation without x-api-key → 401 { "error": "invalid_api_key" }
 * ```
 */
export class InvalidApiKeyError extends JitProvisionError {
  constructor(message = 'Missing or invalid API key') {
    super('invalid_api_key', 401, message);
  }
}

/**
 * A request body over the accepted size.
 *
 * @example
 * ```ts
 * if (bytes > 1_048_576) throw new PayloadTooLargeError();
 * ```
 */
export class PayloadTooLargeError extends JitProvisionError {
  constructor(message = 'Request body too large') {
    super('payload_too_large', 413, message);
  }
}

/**
 * An id in a request path that names nothing (an invitation, an outbox event, a bulk job), or an invitation
 * token `peek` will not describe. One code whatever the reason, so a caller cannot probe state.
 *
 * @example
 * ```ts
 * if (!(await invitations.revoke(id))) throw new NotFoundError('No such invitation');
 * ```
 */
export class NotFoundError extends JitProvisionError {
  constructor(message = 'Not found') {
    super('not_found', 404, message);
  }
}

/**
 * A user for this (issuer, subject) exists already, so an exclusive create (admin `POST /users`) changed nothing.
 *
 * @example
 * ```ts
 * await provisioner.preProvision({ issuer, subject }, { exclusive: true }); // second call: UserExistsError (409)
 * ```
 */
export class UserExistsError extends JitProvisionError {
  constructor(message = 'A user with this issuer and subject exists') {
    super('user_exists', 409, message);
  }
}

/**
 * A field or argument with an invalid value: an admin API request field, or an argument of a lifecycle
 * operation (a status, limit, cursor, query, date, actor or user reference). HTTP 422 whose body names the
 * field (`"field": "emails[3]"`), so a form can mark it; raised before anything was read or changed.
 *
 * @example
 * ```ts
 * throw new InvalidFieldError('expiresInMs', 'expiresInMs must be a positive integer');
 * // → 422 { "error": "invalid_field", "field": "expiresInMs", "error_description": "…" }
 * await provisioner.listUsers({ status: 'banned' as never }); // throws InvalidFieldError (field 'status')
 * ```
 */
export class InvalidFieldError extends JitProvisionError {
  readonly field: string;

  constructor(field: string, message = `${field} is invalid`) {
    super('invalid_field', 422, message);
    this.field = field;
  }
}

/**
 * Too many requests from one client (e.g. invitation `peek`). HTTP 429 with `Retry-After` in whole seconds.
 *
 * @example
 * ```ts
 * const wait = limiter.take(ip);
 * if (wait > 0) throw new RateLimitedError(wait);
 * ```
 */
export class RateLimitedError extends JitProvisionError {
  constructor(retryAfterSeconds: number, message = 'Too many requests') {
    super('rate_limited', 429, message, {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

/**
 * The change would leave no active admin (demoting, disabling or deleting the last one). HTTP 409; nothing
 * was changed.
 *
 * @example
 * ```ts
 * await assertAdminRemains(user, { status: 'disabled' }, countActiveAdmins); // throws LastAdminError
 * ```
 */
export class LastAdminError extends JitProvisionError {
  constructor(message = 'This change would leave no active admin') {
    super('last_admin', 409, message);
  }
}

/**
 * Invalid options, found at start-up (duplicate prefixes, short secrets, bad env values).
 *
 * @example
 * ```ts
 * createProvisioner({ store, issuers: [{ issuer: 'https://a', prefix: 'x' }, { issuer: 'https://b', prefix: 'x' }] });
 * // throws ConfigurationError
 * ```
 */
export class ConfigurationError extends JitProvisionError {
  constructor(message: string) {
    super('configuration_error', 500, message);
  }
}

/**
 * True for any jit-provision error — optionally only for the given `code`s — across duplicated copies of the
 * package: it checks the brand every copy sets, never class identity. Use it instead of `instanceof` wherever
 * an error may come from another copy of core (a store loaded through `require()` by an ESM app, a bundled kit).
 *
 * @example
 * ```ts
 * if (isJitProvisionError(err)) reply.code(err.status);
 * if (isJitProvisionError(err, 'reservation_conflict')) await retryLater();
 * ```
 */
export function isJitProvisionError<C extends ErrorCode>(
  value: unknown,
  ...codes: C[]
): value is JitProvisionError & { readonly code: C } {
  if (
    typeof value !== 'object' ||
    value === null ||
    (value as Record<symbol, unknown>)[ERROR_BRAND] !== true
  ) {
    return false;
  }
  return codes.length === 0 || (codes as readonly unknown[]).includes((value as { code?: unknown }).code);
}
