import { createMemoryStore } from '@jit-provision/store-memory';
import { runKratosWebhookSuite } from '@jit-provision/testing';
import Fastify from 'fastify';
import { afterAll } from 'vitest';
import { kratosWebhooks } from './index';

const apps: ReturnType<typeof Fastify>[] = [];
afterAll(() => Promise.all(apps.map((app) => app.close())));

runKratosWebhookSuite({
  name: 'fastify',
  createStore: createMemoryStore,
  async mount(options) {
    const app = Fastify();
    apps.push(app);
    await app.register(kratosWebhooks(options), { prefix: '/kratos' });
    // Through Fastify's real request pipeline.
    return async (path, body, headers) => {
      const res = await app.inject({ method: 'POST', url: path, headers, payload: body });
      return { status: res.statusCode, body: res.json() };
    };
  },
});
