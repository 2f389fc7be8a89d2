import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryStore } from '@jit-provision/store-memory';
import { runHostileInputSuite } from '@jit-provision/testing';
import express from 'express';
import { jitProvision } from './index';

runHostileInputSuite({
  name: 'express',
  createStore: createMemoryStore,
  async listen(provisioner, { maxHeaderSize }) {
    const app = express();
    app.use(jitProvision(provisioner));
    app.get('/me', (req, res) => res.json({ auth: req.auth ?? null }));
    const server = createServer({ maxHeaderSize }, app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
});
