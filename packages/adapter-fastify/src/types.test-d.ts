import type {
  AuthClient,
  AuthResult,
  ClientAuthResult,
  UserAuthResult,
  UserRecord,
} from '@jit-provision/core';
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
  requireUser,
  routesPlugin,
} from './index';

type Auth = FastifyRequest['auth'];

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
  it('auth is a discriminated union on kind: a person (user row, null only in an outage) or a machine client', () => {
    const narrow = (auth: Auth) => {
      if (auth?.kind === 'client') {
        expectTypeOf(auth.client).toEqualTypeOf<AuthClient>();
        expectTypeOf(auth.user).toEqualTypeOf<null>();
        expectTypeOf(auth.created).toEqualTypeOf<false>();
      } else if (auth?.kind === 'user') {
        expectTypeOf(auth.user).toEqualTypeOf<UserRecord | null>();
        // @ts-expect-error a person has no client
        auth.client;
      }
    };
    expectTypeOf(narrow).parameter(0).toEqualTypeOf<Auth>();
    expectTypeOf<NonNullable<Auth>>().toEqualTypeOf<UserAuthResult | ClientAuthResult>();
  });
  it('requireUser, and requireRole with { clients }', () => {
    expectTypeOf(requireUser).returns.toEqualTypeOf<preHandlerHookHandler>();
    expectTypeOf(requireUser).parameters.toEqualTypeOf<[]>();
    expectTypeOf(requireRole(['admin'], { clients: true })).toEqualTypeOf<preHandlerHookHandler>();
    expectTypeOf(requireRole('admin', { clients: false })).toEqualTypeOf<preHandlerHookHandler>();
    expectTypeOf(requireRole('admin', 'editor')).toEqualTypeOf<preHandlerHookHandler>();
    // @ts-expect-error clients is a boolean
    requireRole(['admin'], { clients: 'yes' });
    requireClaims((_claims, auth) => auth.kind === 'client' || auth.user.role === 'admin');
    // @ts-expect-error a client's user is null: narrow on kind first
    requireClaims((_claims, auth) => auth.user.role === 'admin');
  });
});
