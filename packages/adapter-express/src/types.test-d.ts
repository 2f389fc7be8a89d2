import type { AdminApiOptions, AuthResult } from '@jit-provision/core';
import type { Request, RequestHandler, Router } from 'express';
import { describe, expectTypeOf, it } from 'vitest';
import { adminApi, type ExpressJitProvisionOptions, jitProvision, kratosWebhooks, router } from './index';

describe('express public types', () => {
  it('augments Request with an optional auth', () => {
    expectTypeOf<Request['auth']>().toEqualTypeOf<AuthResult | undefined>();
  });
  it('returns framework-native handlers', () => {
    expectTypeOf(jitProvision).returns.toEqualTypeOf<RequestHandler>();
    expectTypeOf(kratosWebhooks).returns.toEqualTypeOf<Router>();
    expectTypeOf(adminApi).returns.toEqualTypeOf<Router>();
    expectTypeOf(adminApi).parameters.toEqualTypeOf<[AdminApiOptions]>();
    expectTypeOf(router).returns.toEqualTypeOf<Router>();
    expectTypeOf<ExpressJitProvisionOptions['passErrors']>().toEqualTypeOf<boolean | undefined>();
  });
});
