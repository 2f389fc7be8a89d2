// The adapter and guard kits of @jit-provision/testing, bundled into one Worker (workerd.edge.ts bundles it,
// aliasing `vitest` and `@jit-provision/core/dev` to the shims beside this file) against the BUILT
// adapter-hono, core and store-memory: every case builds its Hono app and provisioner inside workerd. Node
// drives it through Miniflare's `dispatchFetch`: GET /cases lists the case names, POST /run?name= runs one,
// POST /finish runs the afterAll hooks. Each request the kits make is `app.fetch` of a real Hono app here.
import { createMemoryStore } from '@jit-provision/store-memory';
import { Hono } from 'hono';
import { getRuntimeKey } from 'hono/adapter';
import { runAdapterSuite } from '../../../testing/src/http/adapter-suite';
import { runGuardSuite } from '../../../testing/src/http/guard-suite';
import {
  jitProvision,
  requireClaims,
  requirePermissions,
  requireRole,
  requireScopes,
  requireUser,
  subApp,
} from '../../dist/index.js';
import { refreshHits, setBridge } from './dev-shim.mjs';
import { caseNames, describe, expect, finish, it, runCase } from './vitest-shim.mjs';

/** The kits' view of an app: `app.request` through Hono's own fetch, in this isolate. */
const drive = (app) => ({
  async request(path, headers = {}) {
    const response = await app.request(`http://worker.test${path}`, { headers });
    const text = await response.text();
    await refreshHits();
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: text === '' ? null : JSON.parse(text),
    };
  },
});

describe('the runtime', () => {
  it('is workerd, not Node', () => expect(getRuntimeKey()).toBe('workerd'));
});

runAdapterSuite({
  name: 'hono on workerd',
  createStore: createMemoryStore,
  createApp(provisioner, options, routes) {
    const app = new Hono();
    app.use('*', jitProvision(provisioner, options));
    app.get('/me', (c) => c.json({ auth: c.get('auth') }));
    app.get('/public', (c) => c.json({ auth: c.get('auth') }));
    app.route('/t', subApp(routes));
    return drive(app);
  },
});

runGuardSuite({
  name: 'hono on workerd',
  createStore: createMemoryStore,
  guards: { requireRole, requireScopes, requirePermissions, requireClaims, requireUser },
  createApp(provisioner, options, routes) {
    const app = new Hono();
    app.use('*', jitProvision(provisioner, options));
    for (const { path, guards } of routes) {
      app.use(path, ...guards);
      app.get(path, (c) => c.json({ ok: true }));
    }
    return drive(app);
  },
});

const failure = (err) => ({
  ok: false,
  error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err),
});

// biome-ignore lint/suspicious/noExportsInTest: the Worker entry; workerd calls its default export.
export default {
  async fetch(request, env) {
    setBridge(env.BRIDGE_URL);
    const url = new URL(request.url);
    if (url.pathname === '/cases') return Response.json(caseNames());
    try {
      if (url.pathname === '/run') await runCase(url.searchParams.get('name'));
      else if (url.pathname === '/finish') await finish();
      else return new Response('not found', { status: 404 });
      return Response.json({ ok: true });
    } catch (err) {
      return Response.json(failure(err));
    }
  },
};
