import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { createProvisioner } from '@jit-provision/core';
import { createDevIssuer } from '@jit-provision/core/dev';
import { createMemoryStore } from '@jit-provision/store-memory';
import { type AdapterTestApp, runAdapterSuite, runGuardSuite } from '@jit-provision/testing';
import express, { type ErrorRequestHandler } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  jitProvision,
  requireClaims,
  requirePermissions,
  requireRole,
  requireScopes,
  requireUser,
  router,
} from './index';

function harness(app: express.Express): AdapterTestApp {
  // The guard suite's hostile cases send 10,000-item claims: above Node's default 16 KiB header limit.
  const server = createServer({ maxHeaderSize: 256 * 1024 }, app);
  return {
    async request(path, headers = {}) {
      const response = await request(server).get(path).set(headers);
      return {
        status: response.status,
        headers: response.headers as Record<string, string>,
        body: response.body,
      };
    },
  };
}

// The peer range is ^4.18 || ^5: the same matrix runs on both majors (Express 4 through an npm alias).
const express4 = createRequire(import.meta.url)('express4') as typeof express;

for (const [name, createExpress] of [
  ['express', express],
  ['express 4', express4],
] as const) {
  runAdapterSuite({
    name,
    createStore: createMemoryStore,
    // Express runs middleware before it routes: route tables go first, as the README mounts them.
    tablesBeforeMiddleware: true,
    createApp(provisioner, options, routes) {
      const app = createExpress();
      app.use('/t', router(routes));
      app.use(jitProvision(provisioner, options));
      app.get('/me', (req, res) => res.json({ auth: req.auth ?? null }));
      app.get('/public', (req, res) => res.json({ auth: req.auth ?? null }));
      return harness(app);
    },
  });
  runGuardSuite({
    name,
    createStore: createMemoryStore,
    guards: { requireRole, requireUser, requireScopes, requirePermissions, requireClaims },
    createApp(provisioner, options, routes) {
      const app = createExpress();
      app.use(jitProvision(provisioner, options));
      for (const { path, guards } of routes) app.get(path, ...guards, (_req, res) => res.json({ ok: true }));
      return harness(app);
    },
  });
}

describe('express specifics', () => {
  it('passErrors hands the SDK error to the app error handler', async () => {
    const idp = await createDevIssuer();
    try {
      const provisioner = createProvisioner({
        store: createMemoryStore(),
        issuers: [{ issuer: idp.issuer, audience: false }],
      });
      const app = express();
      app.use(jitProvision(provisioner, { passErrors: true }));
      app.get('/me', (_req, res) => res.json({ ok: true }));
      const onError: ErrorRequestHandler = (err, _req, res, _next) => {
        res.status(418).json({ seen: (err as { code?: string }).code });
      };
      app.use(onError);
      const response = await request(app).get('/me');
      expect(response.status).toBe(418);
      expect(response.body).toEqual({ seen: 'missing_token' });
    } finally {
      await idp.close();
    }
  });

  it('skip sees the full path when mounted under a prefix', async () => {
    const idp = await createDevIssuer();
    try {
      const provisioner = createProvisioner({
        store: createMemoryStore(),
        issuers: [{ issuer: idp.issuer, audience: false }],
      });
      const seen: string[] = [];
      const router = express.Router();
      router.use(
        jitProvision(provisioner, {
          skip: (path) => {
            seen.push(path);
            return path === '/api/public';
          },
        }),
      );
      router.get('/public', (_req, res) => res.json({ ok: true }));
      const app = express();
      app.use('/api', router);
      expect((await request(app).get('/api/public?x=1')).status).toBe(200);
      expect(seen).toEqual(['/api/public']);
    } finally {
      await idp.close();
    }
  });
});
