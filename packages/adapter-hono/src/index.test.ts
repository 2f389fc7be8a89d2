import { runAdapterSuite } from '@jit-provision/core/testing';
import { createMemoryStore } from '@jit-provision/store-memory';
import { Hono } from 'hono';
import { jitProvision } from './index';

runAdapterSuite({
  name: 'hono',
  createStore: createMemoryStore,
  createApp(provisioner, options) {
    const app = new Hono();
    app.use('*', jitProvision(provisioner, options));
    app.get('/me', (c) => c.json({ auth: c.get('auth') }));
    app.get('/public', (c) => c.json({ auth: c.get('auth') }));
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
  },
});
