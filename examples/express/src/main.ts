import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { createDemo, instructions, storeChoiceFrom } from './demo';

const port = Number(process.env['PORT'] ?? 3000);
const inviteOnly = process.argv.includes('--invite-only') || process.env['JIT_INVITE_ONLY'] === '1';
const store = storeChoiceFrom(process.argv, process.env);
// Users are keyed by issuer, and the dev issuer's URL has its port: a fixed one keeps Postgres users across restarts.
const issuerPort = process.env['ISSUER_PORT']
  ? Number(process.env['ISSUER_PORT'])
  : store.kind === 'postgres'
    ? port + 1
    : undefined;
const baseUrl = `http://localhost:${port}`;

const demo = await createDemo({
  store,
  inviteOnly,
  baseUrl,
  ...(issuerPort === undefined ? {} : { issuerPort }),
});
const server = createApp(demo).listen(port, async () => {
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  console.log(await instructions(demo, url, inviteOnly));
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
