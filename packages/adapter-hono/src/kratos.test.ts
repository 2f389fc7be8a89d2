import { createMemoryStore } from '@jit-provision/store-memory';
import { runKratosWebhookSuite } from '@jit-provision/testing';
import { Hono } from 'hono';
import { kratosWebhooks } from './index';

runKratosWebhookSuite({
  name: 'hono',
  createStore: createMemoryStore,
  mount(options) {
    const app = new Hono();
    app.route('/kratos', kratosWebhooks(options));
    // Through Hono's real request pipeline.
    return async (path, body, headers) => {
      const res = await app.request(path, { method: 'POST', headers, body });
      return { status: res.status, body: await res.json() };
    };
  },
});
