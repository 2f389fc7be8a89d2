import { createServer } from 'node:http';
import { createMemoryStore } from '@jit-provision/store-memory';
import { runHostileInputSuite } from '@jit-provision/testing';
import Fastify from 'fastify';
import { jitProvision } from './index';

runHostileInputSuite({
  name: 'fastify',
  createStore: createMemoryStore,
  async listen(provisioner, { maxHeaderSize }) {
    const app = Fastify({ serverFactory: (handler) => createServer({ maxHeaderSize }, handler) });
    await app.register(jitProvision, { provisioner });
    app.get('/me', async (request) => ({ auth: request.auth }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
});
