import { createMemoryStore } from '@jit-provision/store-memory';
import { runAdminApiSuite } from '@jit-provision/testing';
import Fastify from 'fastify';
import { adminApi } from './index';

runAdminApiSuite({
  name: 'fastify',
  createStore: createMemoryStore,
  async mount(options) {
    const app = Fastify();
    await app.register(adminApi(options), { prefix: '/admin/api' });
    return {
      // Through Fastify's real request pipeline; `remoteAddress` is what `request.ip` reports.
      async request({ method, path, headers = {}, body, ip }) {
        const res = await app.inject({
          method,
          url: path,
          headers,
          ...(body === undefined ? {} : { payload: body }),
          ...(ip === undefined ? {} : { remoteAddress: ip }),
        });
        return {
          status: res.statusCode,
          headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
          body: res.body ? JSON.parse(res.body) : undefined,
        };
      },
      close: () => app.close(),
    };
  },
});
