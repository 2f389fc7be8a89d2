import { createProvisioner } from '@jit-provision/core';
import { createDevIssuer } from '@jit-provision/core/dev';
import { createMemoryStore } from '@jit-provision/store-memory';
import { type AdapterTestApp, runAdapterSuite, runGuardSuite } from '@jit-provision/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  createJitProvisionHook,
  jitProvision,
  requireClaims,
  requirePermissions,
  requireRole,
  requireScopes,
  requireUser,
  routesPlugin,
} from './index';

async function harness(app: FastifyInstance): Promise<AdapterTestApp> {
  await app.ready();
  return {
    async request(path, headers = {}) {
      const response = await app.inject({ method: 'GET', url: path, headers });
      return {
        status: response.statusCode,
        headers: response.headers as Record<string, string>,
        body: response.json(),
      };
    },
    close: () => app.close(),
  };
}

runAdapterSuite({
  name: 'fastify',
  createStore: createMemoryStore,
  async createApp(provisioner, options, routes) {
    const app = Fastify();
    await app.register(jitProvision, { provisioner, ...options });
    app.get('/me', async (request) => ({ auth: request.auth }));
    app.get('/public', async (request) => ({ auth: request.auth }));
    await app.register(routesPlugin(routes), { prefix: '/t' });
    return harness(app);
  },
});

runGuardSuite({
  name: 'fastify',
  createStore: createMemoryStore,
  guards: { requireRole, requireUser, requireScopes, requirePermissions, requireClaims },
  async createApp(provisioner, options, routes) {
    const app = Fastify();
    await app.register(jitProvision, { provisioner, ...options });
    for (const { path, guards } of routes) app.get(path, { preHandler: guards }, async () => ({ ok: true }));
    return harness(app);
  },
});

describe('fastify specifics', () => {
  it('global: false authenticates only routes that use the hook', async () => {
    const idp = await createDevIssuer();
    const app = Fastify();
    try {
      const provisioner = createProvisioner({
        store: createMemoryStore(),
        issuers: [{ issuer: idp.issuer, audience: false }],
      });
      await app.register(jitProvision, { provisioner, global: false });
      app.get('/open', async (request) => ({ auth: request.auth }));
      app.get('/me', { onRequest: app.jitProvision }, async (request) => ({
        user: request.auth?.user?.subject,
      }));
      app.get('/also', { onRequest: createJitProvisionHook(provisioner) }, async () => ({ ok: true }));
      expect((await app.inject('/open')).json()).toEqual({ auth: null });
      expect((await app.inject('/me')).statusCode).toBe(401);
      expect((await app.inject('/also')).statusCode).toBe(401);
      const token = await idp.mint({ sub: 'scoped' });
      const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
      expect(me.json()).toEqual({ user: 'scoped' });
    } finally {
      await app.close();
      await idp.close();
    }
  });

  it('refuses registration without a provisioner', async () => {
    const app = Fastify();
    await expect(app.register(jitProvision, {} as never).ready()).rejects.toMatchObject({
      code: 'configuration_error',
    });
  });
});
