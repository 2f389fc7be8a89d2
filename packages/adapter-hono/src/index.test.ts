import { createMemoryStore } from '@jit-provision/store-memory';
import { type AdapterTestApp, runAdapterSuite, runGuardSuite } from '@jit-provision/testing';
import { Hono } from 'hono';
import {
  jitProvision,
  requireClaims,
  requirePermissions,
  requireRole,
  requireScopes,
  requireUser,
  subApp,
} from './index';

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
