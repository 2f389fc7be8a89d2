import type { AddressInfo } from 'node:net';
import { demoFromProcess } from '@jit-provision/example-shared';
import { createApp } from './app';

const { demo, port, ready } = await demoFromProcess();
const server = createApp(demo).listen(port, async () => {
  console.log(await ready(`http://localhost:${(server.address() as AddressInfo).port}`));
});
server.once('error', (err) => {
  console.error(`cannot listen on port ${port}:`, err.message);
  demo.close().finally(() => process.exit(1));
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    demo.close().finally(() => process.exit(0));
  });
}
