import type { AuthResult } from '@jit-provision/core';
import type { AdminApiOptions } from '@jit-provision/core/admin';
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyRequest,
  type onRequestHookHandler,
  type preHandlerHookHandler,
} from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';
import {
  adminApi,
  type FastifyJitProvisionOptions,
  kratosWebhooks,
  requireClaims,
  requirePermissions,
  requireRole,
  requireScopes,
  routesPlugin,
} from './index';

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
  it('guards are preHandler hooks, alone or in a list, on typed routes too', () => {
    expectTypeOf(requireRole).returns.toEqualTypeOf<preHandlerHookHandler>();
    expectTypeOf(requireScopes).returns.toEqualTypeOf<preHandlerHookHandler>();
    expectTypeOf(requirePermissions).returns.toEqualTypeOf<preHandlerHookHandler>();
    expectTypeOf(requireClaims).returns.toEqualTypeOf<preHandlerHookHandler>();
    const app = Fastify();
    app.get('/x', { preHandler: requireRole('admin') }, async (request) => request.auth?.user);
    app.get<{ Params: { id: string }; Querystring: { q?: string } }>(
      '/y/:id',
      { preHandler: [requireScopes(['a', 'b'], { match: 'any' }), requirePermissions('p')] },
      async (request) => request.params.id,
    );
    app.addHook(
      'preHandler',
      requireClaims((claims) => claims['tier'] === 'gold'),
    );
    // @ts-expect-error match is 'all' or 'any'
    requirePermissions('a', { match: 'some' });
  });
});
