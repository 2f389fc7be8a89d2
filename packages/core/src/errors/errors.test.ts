import { describe, expect, it } from 'vitest';
import * as errors from './errors';
import {
  ConfigurationError,
  ERROR_CLASSES,
  ERRORS,
  type ErrorCode,
  ForbiddenError,
  InsufficientScopeError,
  InvalidApiKeyError,
  InvalidFieldError,
  InvalidIdentityError,
  InvalidInvitationError,
  InvalidRequestError,
  InvalidTokenError,
  isJitProvisionError,
  JitProvisionError,
  LastAdminError,
  MissingTokenError,
  NotFoundError,
  PayloadTooLargeError,
  PolicyRejectedError,
  RateLimitedError,
  ReservationConflictError,
  ScimConflictError,
  StoreUnavailableError,
  UnsupportedMediaTypeError,
  UntrustedIssuerError,
  UserDisabledError,
  UserExistsError,
  UserNotFoundError,
  UserNotProvisionedError,
} from './errors';

// One error of each code, built the way core builds it. Typed by ErrorCode: a code added to ERRORS without
// a line here does not compile.
const sample: { [C in ErrorCode]: () => JitProvisionError } = {
  missing_token: () => new MissingTokenError(),
  invalid_token: () => new InvalidTokenError('expired'),
  invalid_request: () => new InvalidRequestError(),
  invalid_identity: () => new InvalidIdentityError('email', 'email is too long'),
  user_not_provisioned: () => new UserNotProvisionedError(),
  user_not_found: () => new UserNotFoundError(),
  forbidden: () => new ForbiddenError(),
  insufficient_scope: () => new InsufficientScopeError(['read:orders']),
  user_disabled: () => new UserDisabledError(),
  policy_rejected: () => new PolicyRejectedError(),
  email_domain_not_allowed: () => new PolicyRejectedError('email_domain_not_allowed'),
  email_not_verified: () => new PolicyRejectedError('email_not_verified'),
  invitation_required: () => new PolicyRejectedError('invitation_required'),
  invitation_invalid: () => new InvalidInvitationError(),
  invitation_expired: () => new InvalidInvitationError('invitation_expired'),
  invitation_consumed: () => new InvalidInvitationError('invitation_consumed'),
  invitation_revoked: () => new InvalidInvitationError('invitation_revoked'),
  invitation_email_mismatch: () => new InvalidInvitationError('invitation_email_mismatch'),
  reservation_conflict: () => new ReservationConflictError(),
  provisioning_unavailable: () => new StoreUnavailableError(),
  invalid_api_key: () => new InvalidApiKeyError(),
  payload_too_large: () => new PayloadTooLargeError(),
  unsupported_media_type: () => new UnsupportedMediaTypeError(),
  not_found: () => new NotFoundError(),
  scim_conflict: () => new ScimConflictError('userName'),
  user_exists: () => new UserExistsError(),
  invalid_field: () => new InvalidFieldError('role'),
  rate_limited: () => new RateLimitedError(2.5),
  last_admin: () => new LastAdminError(),
  configuration_error: () => new ConfigurationError('two issuers share the prefix x'),
};
// Subclasses that share their parent's code.
const specialised: JitProvisionError[] = [new UntrustedIssuerError('https://evil.example', ['https://a'])];

const codes = Object.keys(ERRORS) as ErrorCode[];
const samples = [...codes.map((code) => sample[code]()), ...specialised];

describe('the table of codes', () => {
  it('names a class for every code and no other', () => {
    expect(Object.keys(ERROR_CLASSES).sort()).toEqual([...codes].sort());
  });

  it.each(codes)(
    '%s: built with that code, the status of the table and the class the table names',
    (code) => {
      const err = sample[code]();
      expect(err.code).toBe(code);
      expect(err.status).toBe(ERRORS[code].status);
      expect(err).toBeInstanceOf(ERROR_CLASSES[code]);
      const spec: { status: number; headers?: Readonly<Record<string, string>> } = ERRORS[code];
      expect(err.headers).toMatchObject(spec.headers ?? {});
      expect(isJitProvisionError(err, code)).toBe(true);
    },
  );

  it('gives no code to two classes: each exported error class is the class of every code it raises', () => {
    const exported = (Object.values(errors) as unknown[]).filter(
      (value): value is abstract new (...args: never[]) => JitProvisionError =>
        typeof value === 'function' && value.prototype instanceof JitProvisionError,
    );
    // A new class must be sampled above, so its code is checked against the table below.
    expect(exported.filter((K) => !samples.some((err) => err.constructor === K)).map((K) => K.name)).toEqual(
      [],
    );
    for (const err of samples) {
      // Not the table's class for this code (nor a subclass of it): a second class claims the code.
      expect({ code: err.code, ok: err instanceof ERROR_CLASSES[err.code] }).toEqual({
        code: err.code,
        ok: true,
      });
    }
  });

  it('keeps the class name, per-error headers and the public code of each class', () => {
    for (const err of samples) expect(err.name).toBe(err.constructor.name);
    expect(new UntrustedIssuerError('https://evil.example')).toMatchObject({
      name: 'UntrustedIssuerError',
      code: 'invalid_token',
      status: 401,
      reason: 'untrusted_issuer',
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    });
    expect(new RateLimitedError(2.5)).toMatchObject({
      code: 'rate_limited',
      status: 429,
      headers: { 'Retry-After': '3' },
    });
    expect(new StoreUnavailableError(undefined, { retryAfterSeconds: 9 })).toMatchObject({
      code: 'provisioning_unavailable',
      status: 503,
      headers: { 'Retry-After': '9' },
    });
    expect(new InvalidInvitationError('invitation_expired').publicCode).toBe('invalid_invitation');
    expect(new PolicyRejectedError('email_not_verified').publicCode).toBe('email_not_verified');
  });

  it('gives each error its own headers object', () => {
    const first = new MissingTokenError();
    (first.headers as Record<string, string>)['WWW-Authenticate'] = 'changed';
    expect(new MissingTokenError().headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
  });

  it('keeps a cause given to a one-code class', () => {
    const cause = new Error('upstream');
    expect(new ForbiddenError(undefined, { cause })).toMatchObject({ code: 'forbidden', status: 403, cause });
    expect(new InvalidTokenError('jwks_unavailable', undefined, { cause })).toMatchObject({
      code: 'invalid_token',
      reason: 'jwks_unavailable',
      cause,
    });
  });
});

describe('isJitProvisionError', () => {
  it('recognises errors of a second copy of core, where instanceof does not', async () => {
    // A query string makes Vite load errors.ts again as a separate module: a second copy of the classes,
    // as an ESM app and a CommonJS store each get one.
    const specifier = './errors.ts?second-copy';
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('./errors');
    const foreign = new copy.ReservationConflictError();
    expect(foreign instanceof ReservationConflictError).toBe(false);
    expect(isJitProvisionError(foreign)).toBe(true);
    expect(isJitProvisionError(foreign, 'reservation_conflict')).toBe(true);
    expect(copy.isJitProvisionError(new ReservationConflictError(), 'reservation_conflict')).toBe(true);
  });

  it('checks the code when given, and refuses look-alikes without the brand', () => {
    expect(isJitProvisionError(new StoreUnavailableError(), 'reservation_conflict')).toBe(false);
    expect(
      isJitProvisionError(new StoreUnavailableError(), 'reservation_conflict', 'provisioning_unavailable'),
    ).toBe(true);
    const lookalike = Object.assign(new Error('x'), {
      code: 'reservation_conflict',
      status: 409,
      publicCode: 'x',
    });
    expect(isJitProvisionError(lookalike)).toBe(false);
    expect(isJitProvisionError(null)).toBe(false);
    expect(isJitProvisionError('reservation_conflict')).toBe(false);
  });

  it('hands back the fields of the class of the code, with no cast', () => {
    const err: unknown = new InvalidTokenError('wrong_audience', undefined, {
      mismatch: { claim: 'aud', expected: ['api'], received: ['other'] },
    });
    if (!isJitProvisionError(err, 'invalid_token')) throw new Error('expected an invalid_token error');
    expect({ code: err.code, status: err.status, reason: err.reason, claim: err.mismatch?.claim }).toEqual({
      code: 'invalid_token',
      status: 401,
      reason: 'wrong_audience',
      claim: 'aud',
    });

    const several: unknown = new InvalidFieldError('expiresInMs');
    if (!isJitProvisionError(several, 'invalid_token', 'invalid_field')) throw new Error('expected a match');
    expect(several.code === 'invalid_field' ? [several.status, several.field] : []).toEqual([
      422,
      'expiresInMs',
    ]);

    const any: unknown = new StoreUnavailableError(undefined, { reason: 'schema_not_migrated' });
    if (!isJitProvisionError(any)) throw new Error('expected a jit-provision error');
    expect(any.code === 'provisioning_unavailable' ? [any.status, any.reason] : []).toEqual([
      503,
      'schema_not_migrated',
    ]);
  });
});
