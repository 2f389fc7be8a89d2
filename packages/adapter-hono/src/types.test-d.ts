import type {
  AuthClient,
  AuthResult,
  ClientAuthResult,
  UserAuthResult,
  UserRecord,
} from '@jit-provision/core';
import type { AdminApiOptions } from '@jit-provision/core/admin';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type AuthVariables,
  adminApi,
  kratosWebhooks,
  requireClaims,
  requirePermissions,
  requireRole,
  requireScopes,
  requireUser,
  type SubAppOptions,
  subApp,
} from './index';

type Auth = ReturnType<typeof readAuth>;
const readAuth = (c: Context) => c.get('auth');

describe('hono public types', () => {
  it("augments the context so c.get('auth') is typed", () => {
    expectTypeOf<ReturnType<Context['get']>>().not.toBeAny();
    const read = (c: Context) => c.get('auth');
    expectTypeOf(read).returns.toEqualTypeOf<AuthResult | null>();
  });
  it('returns sub-apps', () => {
    expectTypeOf(kratosWebhooks).returns.toEqualTypeOf<Hono>();
    expectTypeOf(adminApi).returns.toEqualTypeOf<Hono>();
    expectTypeOf(adminApi).parameters.toEqualTypeOf<[AdminApiOptions & SubAppOptions]>();
    expectTypeOf(subApp).returns.toEqualTypeOf<Hono>();
    // Hono's own helpers fit: `getConnInfo` from hono/bun, hono/deno, hono/cloudflare-workers, node-server.
    expectTypeOf<typeof import('hono/bun').getConnInfo>().toExtend<SubAppOptions['getConnInfo']>();
    expectTypeOf<typeof import('hono/deno').getConnInfo>().toExtend<SubAppOptions['getConnInfo']>();
  });
  it('guards are middleware that fit a route before the handler', () => {
    type Guard = MiddlewareHandler<{ Variables: AuthVariables }>;
    expectTypeOf(requireRole).returns.toEqualTypeOf<Guard>();
    expectTypeOf(requireScopes).returns.toEqualTypeOf<Guard>();
    expectTypeOf(requirePermissions).returns.toEqualTypeOf<Guard>();
    expectTypeOf(requireClaims).returns.toEqualTypeOf<Guard>();
    const app = new Hono();
    app.get('/x', requireRole('admin'), (c) => c.json(c.get('auth')?.user ?? null));
    app.post('/y/:id', requireScopes(['a', 'b'], { match: 'any' }), requirePermissions('p'), (c) =>
      c.text(c.req.param('id')),
    );
    app.use(
      '/admin/*',
      requireClaims((claims) => claims['tier'] === 'gold'),
    );
    // @ts-expect-error match is 'all' or 'any'
    requireScopes('a', { match: 'some' });
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
    expectTypeOf(requireUser).returns.toEqualTypeOf<MiddlewareHandler<{ Variables: AuthVariables }>>();
    expectTypeOf(requireUser).parameters.toEqualTypeOf<[]>();
    expectTypeOf(requireRole(['admin'], { clients: true })).toEqualTypeOf<
      MiddlewareHandler<{ Variables: AuthVariables }>
    >();
    expectTypeOf(requireRole('admin', { clients: false })).toEqualTypeOf<
      MiddlewareHandler<{ Variables: AuthVariables }>
    >();
    expectTypeOf(requireRole('admin', 'editor')).toEqualTypeOf<
      MiddlewareHandler<{ Variables: AuthVariables }>
    >();
    // @ts-expect-error clients is a boolean
    requireRole(['admin'], { clients: 'yes' });
    requireClaims((_claims, auth) => auth.kind === 'client' || auth.user.role === 'admin');
    // @ts-expect-error a client's user is null: narrow on kind first
    requireClaims((_claims, auth) => auth.user.role === 'admin');
  });
});
