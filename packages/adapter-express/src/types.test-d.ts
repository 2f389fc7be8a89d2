import type { AuthResult } from '@jit-provision/core';
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
  router,
} from './index';

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
    expectTypeOf(requireRole).parameters.toEqualTypeOf<string[]>();
    const app = express();
    app.get('/x', requireRole('admin'), (req, res) => res.json(req.auth?.user));
    app.post('/y', requireScopes(['a', 'b'], { match: 'any' }), requirePermissions('p'), (_req, res) =>
      res.end(),
    );
    app.get(
      '/z',
      requireClaims((claims, auth) => claims['tier'] === 'gold' && auth.user.role !== ''),
      (_q, s) => s.end(),
    );
    // @ts-expect-error match is 'all' or 'any'
    requireScopes('a', { match: 'some' });
    // @ts-expect-error a predicate answers a boolean
    requireClaims(() => 'yes');
  });
});
