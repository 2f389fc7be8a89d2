import { runExampleSuite } from '@jit-provision/example-shared/suite';
import { createApp } from './app';

runExampleSuite('fastify', async (demo) => {
  const app = await createApp(demo);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});
