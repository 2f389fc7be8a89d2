import { jitProvision, requireRole } from '@jit-provision/adapter-hono';
import { createProvisioner, type Store } from '@jit-provision/core';
import { toHttpResponse } from '@jit-provision/core/adapter';
import { createMemoryStore } from '@jit-provision/store-memory';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** What the edge entries read from their environment (Worker bindings, or process env under Bun/Deno). */
export interface EdgeConfig {
  /** The OIDC issuer, e.g. `https://auth.example.com` (its JWKS is fetched from its discovery document). */
  ISSUER: string;
  /** The API's audience in the access tokens. */
  AUDIENCE: string;
  /** An admin subject: that user is stored with role `admin` before the first login. Optional. */
  ADMIN_SUBJECT?: string;
}

/**
 * The same API on Cloudflare Workers, Bun and Deno: core, store-memory and adapter-hono, nothing Node-only.
 * The memory store lives as long as the isolate (a Worker's is short-lived and per location): use a database
 * store for anything real (docs/edge.md).
 */
export function createEdgeApp(config: EdgeConfig, store: Store = createMemoryStore()): Hono {
  const provisioner = createProvisioner({
    store,
    issuers: [{ issuer: config.ISSUER, audience: config.AUDIENCE }],
  });
  const ready =
    config.ADMIN_SUBJECT === undefined || config.ADMIN_SUBJECT === ''
      ? Promise.resolve()
      : provisioner
          .preProvision({ issuer: config.ISSUER, subject: config.ADMIN_SUBJECT, role: 'admin' })
          .then(() => {});
  const app = new Hono();
  app.use('*', async (_c, next) => {
    await ready;
    await next();
  });
  app.get('/health', (c) => c.json({ ok: true }));
  app.use('*', jitProvision(provisioner, { skip: (path) => path === '/health' }));
  app.get('/me', (c) => {
    const auth = c.get('auth');
    return c.json({ user: auth?.user ?? null, created: auth?.created ?? false });
  });
  app.get('/admin/ping', requireRole('admin'), (c) => c.json({ ok: true }));
  app.onError((err, c) => {
    if ('getResponse' in err && typeof err.getResponse === 'function') return err.getResponse() as Response;
    const { status, headers, body } = toHttpResponse(err);
    return c.json(body, status as ContentfulStatusCode, headers);
  });
  return app;
}
