import { describe, expectTypeOf, it } from 'vitest';
// The public names come from the root, so this also proves it exports them.
import {
  type AnyJitProvisionError,
  type ErrorCode,
  INVITATION_ERROR_CODES,
  type InvalidFieldError,
  type InvalidInvitationError,
  type InvalidTokenError,
  type InvalidTokenReason,
  type InvitationErrorCode,
  isJitProvisionError,
  type JitProvisionError,
  type JitProvisionErrorOf,
  type PolicyRejectedError,
  type StoreUnavailableError,
  type StoreUnavailableReason,
} from '../index';
import type { ERROR_CLASSES } from './errors';

declare const err: unknown;

describe('isJitProvisionError narrows by code', () => {
  it('one code: to the class of that code, its fields readable', () => {
    if (isJitProvisionError(err, 'invalid_token')) {
      expectTypeOf(err).toEqualTypeOf<InvalidTokenError>();
      expectTypeOf(err.reason).toEqualTypeOf<InvalidTokenReason>();
      expectTypeOf(err.code).toEqualTypeOf<'invalid_token'>();
    }
    if (isJitProvisionError(err, 'invalid_field')) expectTypeOf(err).toEqualTypeOf<InvalidFieldError>();
    if (isJitProvisionError(err, 'provisioning_unavailable')) {
      expectTypeOf(err.reason).toEqualTypeOf<StoreUnavailableReason>();
    }
  });

  it('one code of a class that owns several: that class, its code narrowed', () => {
    if (isJitProvisionError(err, 'invitation_expired')) {
      expectTypeOf(err).toEqualTypeOf<InvalidInvitationError & { readonly code: 'invitation_expired' }>();
      expectTypeOf(err.code).toEqualTypeOf<'invitation_expired'>();
    }
    if (isJitProvisionError(err, 'email_domain_not_allowed'))
      expectTypeOf(err).toExtend<PolicyRejectedError>();
  });

  it('several codes: the union of their classes, discriminated by code', () => {
    if (isJitProvisionError(err, 'invalid_token', 'provisioning_unavailable')) {
      expectTypeOf(err).toEqualTypeOf<InvalidTokenError | StoreUnavailableError>();
      if (err.code === 'provisioning_unavailable') expectTypeOf(err).toEqualTypeOf<StoreUnavailableError>();
      else expectTypeOf(err).toEqualTypeOf<InvalidTokenError>();
    }
    if (isJitProvisionError(err, ...INVITATION_ERROR_CODES)) {
      expectTypeOf(err).toExtend<InvalidInvitationError>();
      expectTypeOf(err.code).toEqualTypeOf<InvitationErrorCode>();
    }
  });

  it('no code: every error, a JitProvisionError that a switch on code narrows', () => {
    if (isJitProvisionError(err)) {
      expectTypeOf(err).toEqualTypeOf<AnyJitProvisionError>();
      expectTypeOf(err).toExtend<JitProvisionError>();
      expectTypeOf(err.code).toEqualTypeOf<ErrorCode>();
      if (err.code === 'invalid_field') expectTypeOf(err.field).toEqualTypeOf<string>();
    }
  });

  it('takes only known codes, as before', () => {
    // @ts-expect-error: not a code
    isJitProvisionError(err, 'invalid_tokn');
    expectTypeOf<JitProvisionErrorOf<'user_not_found' | 'not_found'>['status']>().toEqualTypeOf<number>();
  });
});

type Classes = typeof ERROR_CLASSES;
/** The codes the table gives to class `K`. */
type CodesOf<K> = { [C in ErrorCode]: Classes[C] extends K ? C : never }[ErrorCode];

describe('the table of codes', () => {
  it('each class raises exactly the codes the table gives it, so no code has two classes', () => {
    type Unclaimed = { [C in ErrorCode]: C extends InstanceType<Classes[C]>['code'] ? never : C }[ErrorCode];
    type Foreign = {
      [C in ErrorCode]: Exclude<InstanceType<Classes[C]>['code'], CodesOf<Classes[C]>>;
    }[ErrorCode];
    expectTypeOf<Unclaimed>().toBeNever();
    expectTypeOf<Foreign>().toBeNever();
  });
});
