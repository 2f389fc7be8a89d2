import type { AdminApiOptions, AuthResult } from '@jit-provision/core';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, onRequestHookHandler } from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';
import { adminApi, type FastifyJitProvisionOptions, kratosWebhooks, routesPlugin } from './index';

describe('fastify public types', () => {
  it('augments FastifyRequest with auth and the instance with the hook', () => {
    expectTypeOf<FastifyRequest['auth']>().toEqualTypeOf<AuthResult | null>();
    expectTypeOf<FastifyInstance['jitProvision']>().toEqualTypeOf<onRequestHookHandler>();
  });
  it('returns plugins', () => {
    expectTypeOf(kratosWebhooks).returns.toEqualTypeOf<FastifyPluginAsync>();
    expectTypeOf(adminApi).returns.toEqualTypeOf<FastifyPluginAsync>();
    expectTypeOf(adminApi).parameters.toEqualTypeOf<[AdminApiOptions]>();
    expectTypeOf(routesPlugin).returns.toEqualTypeOf<FastifyPluginAsync>();
    expectTypeOf<FastifyJitProvisionOptions['global']>().toEqualTypeOf<boolean | undefined>();
  });
});
