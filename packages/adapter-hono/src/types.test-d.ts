import type { AdminApiOptions, AuthResult } from '@jit-provision/core';
import type { Context, Hono } from 'hono';
import { describe, expectTypeOf, it } from 'vitest';
import { adminApi, kratosWebhooks, subApp } from './index';

describe('hono public types', () => {
  it("augments the context so c.get('auth') is typed", () => {
    expectTypeOf<ReturnType<Context['get']>>().not.toBeAny();
    const read = (c: Context) => c.get('auth');
    expectTypeOf(read).returns.toEqualTypeOf<AuthResult | null>();
  });
  it('returns sub-apps', () => {
    expectTypeOf(kratosWebhooks).returns.toEqualTypeOf<Hono>();
    expectTypeOf(adminApi).returns.toEqualTypeOf<Hono>();
    expectTypeOf(adminApi).parameters.toEqualTypeOf<[AdminApiOptions]>();
    expectTypeOf(subApp).returns.toEqualTypeOf<Hono>();
  });
});
