import { serve } from '@hono/node-server';
import { demoFromProcess } from '@jit-provision/example-shared';
import { createApp } from './app';

const { demo, port, ready } = await demoFromProcess();
const server = serve({ fetch: createApp(demo).fetch, port }, async (info) => {
  console.log(await ready(`http://localhost:${info.port}`));
});
server.once('error', (err) => {
  console.error(`cannot listen on port ${port}:`, err.message);
  demo.close().finally(() => process.exit(1));
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    demo.close().finally(() => process.exit(0));
  });
}
