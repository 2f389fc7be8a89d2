import type { AddressInfo } from 'node:net';
import { demoFromProcess, stopWhenAsked } from '@jit-provision/example-shared';
import { createApp } from './app';

const { demo, port, ready } = await demoFromProcess();
const server = createApp(demo).listen(port, async () => {
  console.log(await ready(`http://localhost:${(server.address() as AddressInfo).port}`));
});
server.once('error', (err) => {
  console.error(`cannot listen on port ${port}:`, err.message);
  demo.close().finally(() => process.exit(1));
});

stopWhenAsked(async () => {
  server.close();
  server.closeAllConnections();
  await demo.close();
});
