import { serve } from '@hono/node-server';
import { demoFromProcess, stopWhenAsked } from '@jit-provision/example-shared';
import { createApp } from './app';

const { demo, port, ready } = await demoFromProcess();
const server = serve({ fetch: createApp(demo).fetch, port }, async (info) => {
  console.log(await ready(`http://localhost:${info.port}`));
});
server.once('error', (err) => {
  console.error(`cannot listen on port ${port}:`, err.message);
  demo.close().finally(() => process.exit(1));
});

stopWhenAsked(async () => {
  server.close();
  await demo.close();
});
