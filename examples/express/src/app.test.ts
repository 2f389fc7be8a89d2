import type { AddressInfo } from 'node:net';
import { runExampleSuite } from '@jit-provision/example-shared/suite';
import { createApp } from './app';

runExampleSuite('express', async (demo) => {
  const server = createApp(demo).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});
