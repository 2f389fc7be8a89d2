import { createProvisioner } from '@jit-provision/core';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { createMemoryStore } from '@jit-provision/store-memory';
import { type AdapterTestApp, runAdapterSuite, runGuardSuite } from '@jit-provision/testing';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  jitProvision,
  requireClaims,
  requirePermissions,
  requireRole,
  requireScopes,
  requireUser,
  subApp,
} from './index';
import type { AuthVariables } from './variables';

function harness(app: Hono): AdapterTestApp {
  return {
    async request(path, headers = {}) {
      const response = await app.request(path, { headers });
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: await response.json(),
      };
    },
  };
}

runAdapterSuite({
  name: 'hono',
  createStore: createMemoryStore,
  createApp(provisioner, options, routes) {
    const app = new Hono();
    app.use('*', jitProvision(provisioner, options));
    app.get('/me', (c) => c.json({ auth: c.get('auth') }));
    app.get('/public', (c) => c.json({ auth: c.get('auth') }));
    app.route('/t', subApp(routes));
    return harness(app);
  },
});

runGuardSuite({
  name: 'hono',
  createStore: createMemoryStore,
  guards: { requireRole, requireUser, requireScopes, requirePermissions, requireClaims },
  createApp(provisioner, options, routes) {
    const app = new Hono();
    app.use('*', jitProvision(provisioner, options));
    for (const { path, guards } of routes) {
      // Route-scoped middleware: `app.get(path, ...guards, handler)` does not type-check with a spread list
      // (types.test-d.ts proves the inline `app.get(path, requireRole('admin'), handler)` form).
      app.use(path, ...guards);
      app.get(path, (c) => c.json({ ok: true }));
    }
    return harness(app);
  },
});

describe('hono: the cache-hit path', () => {
  let idp: DevIssuer;
  beforeAll(async () => {
    idp = await createDevIssuer();
  });
  afterAll(() => idp.close());

  it('a cached token and user continue with next() itself: no promise or await of the middleware', async () => {
    const provisioner = createProvisioner({
      store: createMemoryStore(),
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
    });
    const app = new Hono<{ Variables: AuthVariables }>();
    const returned: unknown[] = [];
    const nexts: unknown[] = [];
    const middleware = jitProvision(provisioner);
    app.use('*', async (c, next) => {
      // Wrap `next` to see what the middleware hands back to compose.
      const result = middleware(c, () => {
        const promise = next();
        nexts.push(promise);
        return promise;
      });
      returned.push(result);
      await result;
    });
    app.get('/me', (c) => c.json({ id: c.get('auth')?.user?.id ?? null }));
    const token = await idp.mint({ sub: 'hit-1', email: 'hit-1@example.com' }, { audience: 'api' });
    const headers = { authorization: `Bearer ${token}` };
    const first = await app.request('/me', { headers });
    const second = await app.request('/me', { headers });
    expect(first.status).toBe(200);
    expect(await second.json()).toEqual(await first.json());
    // The first request verified and provisioned (a promise chain of ours); the second was a cache hit.
    expect(returned[0]).not.toBe(nexts[0]);
    expect(returned[1]).toBe(nexts[1]);
  });
});
