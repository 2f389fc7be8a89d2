/**
 * Every error this SDK raises is a {@link JitProvisionError}: a stable literal `code`, an HTTP `status`,
 * and optional response `headers`. `toHttpResponse` (http.ts) is the one place that turns them into
 * responses, so adapters never decide statuses themselves.
 *
 * Codes and statuses are written once, in {@link ERRORS}; {@link ERROR_CLASSES} says which class carries each
 * code, which is how {@link isJitProvisionError} narrows to that class without `instanceof`.
 */

/**
 * The one table of error codes: each code's HTTP status, and the headers every answer with it carries
 * (per-error ones such as `Retry-After: n` stay in the class). Which of these codes an HTTP client sees is the
 * class's `publicCode`: invitation failures collapse to `invalid_invitation`.
 */
export const ERRORS = {
  missing_token: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } },
  invalid_token: { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } },
  invalid_request: { status: 400 },
  invalid_identity: { status: 400 },
  user_not_provisioned: { status: 403 },
  user_not_found: { status: 404 },
  forbidden: { status: 403 },
  insufficient_scope: { status: 403 },
  user_disabled: { status: 403 },
  policy_rejected: { status: 403 },
  email_domain_not_allowed: { status: 403 },
  email_not_verified: { status: 403 },
  invitation_required: { status: 403 },
  invitation_invalid: { status: 403 },
  invitation_expired: { status: 403 },
  invitation_consumed: { status: 403 },
  invitation_revoked: { status: 403 },
  invitation_email_mismatch: { status: 403 },
  reservation_conflict: { status: 409 },
  provisioning_unavailable: { status: 503 },
  invalid_api_key: { status: 401 },
  payload_too_large: { status: 413 },
  unsupported_media_type: { status: 415 },
  not_found: { status: 404 },
  user_exists: { status: 409 },
  invalid_field: { status: 422 },
  rate_limited: { status: 429 },
  last_admin: { status: 409 },
  scim_conflict: { status: 409 },
  configuration_error: { status: 500 },
} as const satisfies Readonly<Record<string, ErrorSpec>>;

/** A row of {@link ERRORS}. */
interface ErrorSpec {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Every `code` a {@link JitProvisionError} can carry: the keys of {@link ERRORS}, so no code is listed twice.
 * Tests and callers branch on these, never on messages.
 */
export type ErrorCode = keyof typeof ERRORS;

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
  | 'issued_in_future'
  | 'wrong_audience'
  | 'missing_claim'
  | 'invalid_claim'
  | 'jwks_unavailable'
  | 'inactive'
  | 'token_revoked'
  | 'session_revoked';

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
export type StoreUnavailableReason =
  | 'unreachable'
  | 'schema_not_migrated'
  | 'failed'
  /** An issuer's introspection or userinfo endpoint failed, timed out, or is backing off (or the introspection call budget is spent). */
  | 'provider_unavailable';

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
 *   } else if (isJitProvisionError(err, 'invalid_token')) {
 *     log.info({ reason: err.reason }, 'token refused'); // narrowed to InvalidTokenError
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

/** What {@link defineError} makes: a class whose only arguments are a message and a cause. */
interface PlainErrorClass<C extends ErrorCode> {
  new (message?: string, options?: { cause?: unknown }): JitProvisionError & { readonly code: C };
}

/**
 * The base of a one-code class, its status and fixed headers read from {@link ERRORS} so they are written once.
 * Public classes extend it (`class NotFoundError extends defineError(…) {}`), so each is still a named class:
 * `name`, `instanceof` and its TSDoc work as for a hand-written one.
 */
function defineError<C extends ErrorCode>(code: C, defaultMessage: string): PlainErrorClass<C> {
  return class extends JitProvisionError {
    declare readonly code: C;

    constructor(message = defaultMessage, options: { cause?: unknown } = {}) {
      const { status, headers }: ErrorSpec = ERRORS[code];
      // A copy per error: a caller that edits `err.headers` must not change every later answer.
      // Named fields, not spreads of `options`: built on every refusal, where the spreads cost ~2 µs.
      const { cause } = options;
      super(code, status, message, headers === undefined ? { cause } : { cause, headers: { ...headers } });
    }
  };
}

/**
 * No credentials at all (RFC 6750 §3.1: no error attribute in the challenge).
 *
 * @example
 * ```ts
 * if (isJitProvisionError(err, 'missing_token')) res.status(err.status).set(err.headers).end();
 * ```
 */
export class MissingTokenError extends defineError('missing_token', 'Authorization bearer token required') {}

/**
 * The bearer token is malformed, expired, badly signed, for another audience, from an untrusted issuer,
 * or uses a forbidden algorithm. `reason` tells which, for logs and tests; clients only see `invalid_token`.
 *
 * @example
 * ```ts
 * // narrowed to InvalidTokenError: `reason` needs no cast
 * if (isJitProvisionError(err, 'invalid_token') && err.reason === 'expired') metrics.expiredTokens++;
 * ```
 */
export class InvalidTokenError extends defineError('invalid_token', 'The access token is invalid') {
  readonly reason: InvalidTokenReason;
  /** The issuer the token named, when known (untrusted ones shortened). No other claim of a refused token is kept. */
  readonly issuer: string | undefined;
  /** For `wrong_audience` and `untrusted_issuer`: expected vs received values, for server logs. */
  readonly mismatch: ClaimMismatch | undefined;

  constructor(
    reason: InvalidTokenReason,
    message?: string,
    options: { cause?: unknown; issuer?: string; mismatch?: ClaimMismatch } = {},
  ) {
    const { issuer, mismatch, cause } = options;
    // No stack: a refusal is the client's doing (an expired or forged token), its frames are the verifier's
    // internals, and capturing them was ~a quarter of what a refusal costs over a raw jwtVerify. Anyone can
    // send refused tokens at volume, so they must cost no more than the signature check. `reason` says why.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, { cause });
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.reason = reason;
    this.issuer = issuer;
    this.mismatch = mismatch;
  }
}

/**
 * The token's `iss` is not in the trusted issuer list. Its code is `invalid_token` (reason `untrusted_issuer`):
 * clients cannot tell it from any other refused token.
 *
 * @example
 * ```ts
 * if (isJitProvisionError(err, 'invalid_token') && err.reason === 'untrusted_issuer') {
 *   log.warn({ issuer: err.issuer, expected: err.mismatch?.expected }, 'token from unknown issuer');
 * }
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
export class InvalidRequestError extends defineError('invalid_request', 'The request is malformed') {}

/**
 * An identity that cannot be stored: empty or over-long issuer/subject/email, control characters.
 * Raised before anything is written.
 *
 * @example
 * ```ts
 * await expect(provisioner.ensureUserExists({ issuer: '', subject: 'x' })).rejects.toMatchObject({ code: 'invalid_identity' });
 * ```
 */
export class InvalidIdentityError extends defineError('invalid_identity', 'The identity is invalid') {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
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
export class UserNotProvisionedError extends defineError(
  'user_not_provisioned',
  'No local user exists for this identity',
) {}

/**
 * `setRole` or an admin call named a user id that does not exist.
 *
 * @example
 * ```ts
 * await provisioner.setRole('nope', 'admin'); // throws UserNotFoundError
 * ```
 */
export class UserNotFoundError extends defineError('user_not_found', 'User not found') {}

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
export class ForbiddenError extends defineError('forbidden', 'Access denied') {}

/**
 * The user exists but is disabled (`provisioner.disable`): every request is refused until `enable`.
 *
 * @example
 * ```ts
 * await provisioner.disable(userId, { reason: 'left the company' });
 * // their next request → 403 { "error": "user_disabled" }
 * ```
 */
export class UserDisabledError extends defineError('user_disabled', 'This user is disabled') {}

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
  declare readonly code: 'insufficient_scope';
  /** The scopes the route requires, as named in the challenge. */
  readonly scopes: readonly string[];

  /** `scopes` must be RFC 6749 scope tokens (no space, `"` or `\`); `requireScopes` checks that at start-up. */
  constructor(scopes: readonly string[], message = 'The access token lacks a required scope') {
    super('insufficient_scope', ERRORS.insufficient_scope.status, message, {
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
  declare readonly code: PolicyCode;

  constructor(
    code: PolicyCode = 'policy_rejected',
    message = 'Provisioning refused by policy',
    options: { cause?: unknown } = {},
  ) {
    super(code, ERRORS[code].status, message, options);
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
 * catch (err) { if (isJitProvisionError(err, 'invitation_expired')) askForANewOne(); }
 * ```
 */
export class InvalidInvitationError extends JitProvisionError {
  declare readonly code: InvitationErrorCode;

  constructor(code: InvitationErrorCode = 'invitation_invalid', message = 'The invitation is not valid') {
    super(code, ERRORS[code].status, message);
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
 * catch (err) { if (isJitProvisionError(err, 'reservation_conflict')) await sleep(err.expiresAt ? 50 : 10); }
 * ```
 */
export class ReservationConflictError extends defineError(
  'reservation_conflict',
  'The identity is being provisioned by another caller',
) {
  /** When the current holder's lease runs out, if the store knows. */
  readonly expiresAt: Date | undefined;

  constructor(message?: string, expiresAt?: Date) {
    super(message);
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
  declare readonly code: 'provisioning_unavailable';
  /**
   * Why, as far as the store can tell; core logs a hint for it (`schema_not_migrated` → run the migrations).
   * Stores set it where they map driver errors; the default is `failed`.
   */
  readonly reason: StoreUnavailableReason;

  constructor(
    message = 'User provisioning is temporarily unavailable',
    options: { cause?: unknown; retryAfterSeconds?: number; reason?: StoreUnavailableReason } = {},
  ) {
    super('provisioning_unavailable', ERRORS.provisioning_unavailable.status, message, {
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
export class InvalidApiKeyError extends defineError('invalid_api_key', 'Missing or invalid API key') {}

/**
 * A request body over the accepted size.
 *
 * @example
 * ```ts
 * if (bytes > 1_048_576) throw new PayloadTooLargeError();
 * ```
 */
export class PayloadTooLargeError extends defineError('payload_too_large', 'Request body too large') {}

/**
 * A request body that is not declared as JSON: a route table takes `application/json` or `application/*+json`
 * with no charset or `utf-8`, and nothing else (HTTP 415), so a gateway filtering on the content type sees
 * what the app executes, and a `text/plain` form cannot reach a route.
 *
 * @example
 * ```ts
 * if (!isJsonMediaType(headers['content-type'])) throw new UnsupportedMediaTypeError();
 * ```
 */
export class UnsupportedMediaTypeError extends defineError(
  'unsupported_media_type',
  'Request body must be application/json (UTF-8)',
) {}

/**
 * An id in a request path that names nothing (an invitation, an outbox event, a bulk job), or an invitation
 * token `peek` will not describe. One code whatever the reason, so a caller cannot probe state.
 *
 * @example
 * ```ts
 * if (!(await invitations.revoke(id))) throw new NotFoundError('No such invitation');
 * ```
 */
export class NotFoundError extends defineError('not_found', 'Not found') {}

/**
 * A user for this (issuer, subject) exists already, so an exclusive create (admin `POST /users`) changed nothing.
 *
 * @example
 * ```ts
 * await provisioner.preProvision({ issuer, subject }, { exclusive: true }); // second call: UserExistsError (409)
 * ```
 */
export class UserExistsError extends defineError(
  'user_exists',
  'A user with this issuer and subject exists',
) {}

/**
 * A field or argument with an invalid value: an admin API request field, or an argument of a lifecycle
 * operation (a status, limit, cursor, query, date, actor or user reference). HTTP 422 whose body names the
 * field (`"field": "emails[3]"`), so a form can mark it; raised before anything was read or changed.
 *
 * @example
 * ```ts
 * throw new InvalidFieldError('expiresInMs', 'expiresInMs must be a positive integer');
 * // → 422 { "error": "invalid_field", "field": "expiresInMs", "error_description": "…" }
 * try { await provisioner.listUsers({ status: 'banned' as never }); }
 * catch (err) { if (isJitProvisionError(err, 'invalid_field')) form.markInvalid(err.field); } // 'status'
 * ```
 */
export class InvalidFieldError extends defineError('invalid_field', 'A field is invalid') {
  readonly field: string;

  constructor(field: string, message = `${field} is invalid`) {
    super(message);
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
  declare readonly code: 'rate_limited';

  constructor(retryAfterSeconds: number, message = 'Too many requests') {
    super('rate_limited', ERRORS.rate_limited.status, message, {
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
 * // The admin API refuses it: PATCH /admin/api/users/<the last admin> {"status":"disabled"}
 * // → 409 { "error": "last_admin" }. Where you call the route table yourself:
 * if (isJitProvisionError(err, 'last_admin')) console.warn('make someone else an admin first');
 * ```
 */
export class LastAdminError extends defineError('last_admin', 'This change would leave no active admin') {}

/**
 * A SCIM write would duplicate a unique value of another user or group of the same issuer (`userName`
 * case-insensitively, `externalId`, a group's `displayName`), or its `If-Match` version is stale (`version`).
 * HTTP 409; nothing was changed. `@jit-provision/scim` answers it as SCIM's `uniqueness` (or, for a stale
 * version, 412 `Precondition Failed`).
 *
 * @example
 * ```ts
 * try { await store.scim.createUser(input); }
 * catch (err) { if (isJitProvisionError(err, 'scim_conflict')) console.warn('taken:', err.attribute); }
 * ```
 */
export class ScimConflictError extends defineError(
  'scim_conflict',
  'A SCIM resource with this value exists',
) {
  readonly attribute: ScimConflictAttribute;

  constructor(attribute: ScimConflictAttribute, message = `${attribute} is already taken`) {
    super(message);
    this.attribute = attribute;
  }

  /** Fixed text: the message of a store may name the other resource, which the caller must not learn. */
  override get publicMessage(): string {
    return this.attribute === 'version'
      ? 'The resource was changed by another request'
      : `Another resource has this ${this.attribute}`;
  }
}

/** What a {@link ScimConflictError} is about: a unique attribute, or a stale `If-Match` version. */
export type ScimConflictAttribute = 'userName' | 'externalId' | 'displayName' | 'version';

/**
 * Invalid options, found at start-up (duplicate prefixes, short secrets, bad env values).
 *
 * @example
 * ```ts
 * createProvisioner({ store, issuers: [{ issuer: 'https://a', prefix: 'x' }, { issuer: 'https://b', prefix: 'x' }] });
 * // throws ConfigurationError
 * ```
 */
export class ConfigurationError extends defineError('configuration_error', 'Invalid configuration') {
  // The message is required: "invalid configuration" alone would not say what to fix.
  constructor(message: string) {
    super(message);
  }
}

/**
 * The class raised with each code; a class may own several (policies, invitations). Checked against
 * {@link ERRORS}: a code without a class, or a class for a code not in the table, does not compile.
 * {@link JitProvisionErrorOf} reads it, so `isJitProvisionError(err, 'invalid_token')` knows it holds an
 * {@link InvalidTokenError}.
 */
export const ERROR_CLASSES = {
  missing_token: MissingTokenError,
  invalid_token: InvalidTokenError,
  invalid_request: InvalidRequestError,
  invalid_identity: InvalidIdentityError,
  user_not_provisioned: UserNotProvisionedError,
  user_not_found: UserNotFoundError,
  forbidden: ForbiddenError,
  insufficient_scope: InsufficientScopeError,
  user_disabled: UserDisabledError,
  policy_rejected: PolicyRejectedError,
  email_domain_not_allowed: PolicyRejectedError,
  email_not_verified: PolicyRejectedError,
  invitation_required: PolicyRejectedError,
  invitation_invalid: InvalidInvitationError,
  invitation_expired: InvalidInvitationError,
  invitation_consumed: InvalidInvitationError,
  invitation_revoked: InvalidInvitationError,
  invitation_email_mismatch: InvalidInvitationError,
  reservation_conflict: ReservationConflictError,
  provisioning_unavailable: StoreUnavailableError,
  invalid_api_key: InvalidApiKeyError,
  payload_too_large: PayloadTooLargeError,
  unsupported_media_type: UnsupportedMediaTypeError,
  not_found: NotFoundError,
  user_exists: UserExistsError,
  invalid_field: InvalidFieldError,
  rate_limited: RateLimitedError,
  last_admin: LastAdminError,
  scim_conflict: ScimConflictError,
  configuration_error: ConfigurationError,
} as const satisfies { readonly [C in ErrorCode]: abstract new (...args: never[]) => JitProvisionError };

/** `E` with `code` narrowed to `C`, unless its class already declares exactly that (most do). */
type WithCode<E, C extends ErrorCode> = E extends { readonly code: C } ? E : E & { readonly code: C };

/**
 * The error raised with code `C`: its class in {@link ERROR_CLASSES}, `code` narrowed to `C`. A union of codes gives the
 * union of their classes, discriminated by `code`. This is what {@link isJitProvisionError} narrows to.
 *
 * @example
 * ```ts
 * function onRefused(err: JitProvisionErrorOf<'invalid_token' | 'invalid_field'>) {
 *   if (err.code === 'invalid_token') log.info({ reason: err.reason }); // InvalidTokenError
 *   else form.markInvalid(err.field); // InvalidFieldError
 * }
 * ```
 */
export type JitProvisionErrorOf<C extends ErrorCode> = C extends ErrorCode
  ? WithCode<InstanceType<(typeof ERROR_CLASSES)[C]>, C>
  : never;

/**
 * Every error jit-provision raises, as a union discriminated by `code` (as jose's `AnyJOSEError`): a `switch`
 * on `err.code` gives each case its class, subclass fields included.
 *
 * @example
 * ```ts
 * if (isJitProvisionError(err)) {
 *   switch (err.code) {
 *     case 'invalid_token': log.info({ reason: err.reason }); break; // InvalidTokenError
 *     case 'provisioning_unavailable': log.error({ reason: err.reason }); break; // StoreUnavailableError
 *   }
 * }
 * ```
 */
export type AnyJitProvisionError = JitProvisionErrorOf<ErrorCode>;

/**
 * True for any jit-provision error — optionally only for the given `code`s — across duplicated copies of the
 * package: it checks the brand every copy sets, never class identity. Use it instead of `instanceof` wherever
 * an error may come from another copy of core (a store loaded through `require()` by an ESM app, a bundled kit).
 *
 * It narrows to the class of the codes given ({@link JitProvisionErrorOf}): `'invalid_token'` gives an
 * {@link InvalidTokenError} with its `reason`, several codes the union of their classes, none
 * {@link AnyJitProvisionError}.
 *
 * @example
 * ```ts
 * if (isJitProvisionError(err, 'invalid_token')) log.info({ reason: err.reason }); // no cast
 * if (isJitProvisionError(err, 'reservation_conflict', 'provisioning_unavailable')) await retryLater();
 * if (isJitProvisionError(err)) reply.code(err.status);
 * ```
 */
export function isJitProvisionError<C extends ErrorCode = ErrorCode>(
  value: unknown,
  ...codes: C[]
): value is JitProvisionErrorOf<C> {
  if (
    typeof value !== 'object' ||
    value === null ||
    (value as Record<symbol, unknown>)[ERROR_BRAND] !== true
  ) {
    return false;
  }
  return codes.length === 0 || (codes as readonly unknown[]).includes((value as { code?: unknown }).code);
}
