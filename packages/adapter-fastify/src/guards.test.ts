import { runGuardSuite } from '@jit-provision/core/testing';
import { createMemoryStore } from '@jit-provision/store-memory';
import Fastify from 'fastify';
import { jitProvision, requireClaims, requirePermissions, requireRole, requireScopes } from './index';

runGuardSuite({
  name: 'fastify',
  createStore: createMemoryStore,
  guards: { requireRole, requireScopes, requirePermissions, requireClaims },
  async createApp(provisioner, options, routes) {
    const app = Fastify();
    await app.register(jitProvision, { provisioner, ...options });
    for (const { path, guards } of routes) app.get(path, { preHandler: guards }, async () => ({ ok: true }));
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
  },
});
