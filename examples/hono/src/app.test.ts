import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { runExampleSuite } from '@jit-provision/example-shared/suite';
import { createApp } from './app';

runExampleSuite('hono', async (demo) => {
  const server = serve({ fetch: createApp(demo).fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
