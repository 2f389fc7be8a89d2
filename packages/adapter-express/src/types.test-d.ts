import type {
  AuthClient,
  AuthResult,
  ClientAuthResult,
  UserAuthResult,
  UserRecord,
} from '@jit-provision/core';
import type { AdminApiOptions } from '@jit-provision/core/admin';
import express, { type Request, type RequestHandler, type Router } from 'express';
import { describe, expectTypeOf, it } from 'vitest';
import {
  adminApi,
  type ExpressJitProvisionOptions,
  jitProvision,
  kratosWebhooks,
  requireClaims,
  requirePermissions,
  requireRole,
  requireScopes,
  requireUser,
  router,
} from './index';

type Auth = Request['auth'];

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
  it('guards are middleware that fit a route before the handler', () => {
    expectTypeOf(requireRole).returns.toEqualTypeOf<RequestHandler>();
    expectTypeOf(requireScopes).returns.toEqualTypeOf<RequestHandler>();
    expectTypeOf(requirePermissions).returns.toEqualTypeOf<RequestHandler>();
    expectTypeOf(requireClaims).returns.toEqualTypeOf<RequestHandler>();
    const app = express();
    app.get('/x', requireRole('admin'), (req, res) => res.json(req.auth?.user));
    app.post('/y', requireScopes(['a', 'b'], { match: 'any' }), requirePermissions('p'), (_req, res) =>
      res.end(),
    );
    app.get(
      '/z',
      requireClaims(
        (claims, auth) => claims['tier'] === 'gold' && auth.kind === 'user' && auth.user.role !== '',
      ),
      (_q, s) => s.end(),
    );
    // @ts-expect-error match is 'all' or 'any'
    requireScopes('a', { match: 'some' });
    // @ts-expect-error a predicate answers a boolean
    requireClaims(() => 'yes');
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
    expectTypeOf(requireUser).returns.toEqualTypeOf<RequestHandler>();
    expectTypeOf(requireUser).parameters.toEqualTypeOf<[]>();
    expectTypeOf(requireRole(['admin'], { clients: true })).toEqualTypeOf<RequestHandler>();
    expectTypeOf(requireRole('admin', { clients: false })).toEqualTypeOf<RequestHandler>();
    expectTypeOf(requireRole('admin', 'editor')).toEqualTypeOf<RequestHandler>();
    // @ts-expect-error clients is a boolean
    requireRole(['admin'], { clients: 'yes' });
    requireClaims((_claims, auth) => auth.kind === 'client' || auth.user.role === 'admin');
    // @ts-expect-error a client's user is null: narrow on kind first
    requireClaims((_claims, auth) => auth.user.role === 'admin');
  });
});
