import { demoFromProcess, stopWhenAsked } from '@jit-provision/example-shared';
import { createApp } from './app';

const { demo, port, ready } = await demoFromProcess();
const app = await createApp(demo);
try {
  await app.listen({ port, host: 'localhost' });
} catch (err) {
  console.error(`cannot listen on port ${port}:`, (err as Error).message);
  await demo.close();
  process.exit(1);
}
const address = app.server.address();
const url =
  typeof address === 'object' && address !== null
    ? `http://localhost:${address.port}`
    : `http://localhost:${port}`;
console.log(await ready(url));

stopWhenAsked(async () => {
  await app.close();
  await demo.close();
});
