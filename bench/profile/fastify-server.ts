/**
 * Server half of `profile/fastify-cpu.ts`: a Fastify app, bare or with `jitProvision` (memory store, default
 * caches), measuring its own CPU between `start` and `stop` messages from the parent.
 */
import type { AddressInfo } from 'node:net';
import { jitProvision } from '@jit-provision/adapter-fastify';
import { createProvisioner } from '@jit-provision/core';
import { createMemoryStore } from '@jit-provision/store-memory';
import Fastify from 'fastify';

const [variant, issuer, audience] = process.argv.slice(2) as [string, string, string];
const app = Fastify();
if (variant === 'ours') {
  const provisioner = createProvisioner({ store: createMemoryStore(), issuers: [{ issuer, audience }] });
  await app.register(jitProvision, { provisioner });
  app.get('/me', async (request) => ({ id: request.auth?.user?.id, role: request.auth?.user?.role }));
} else {
  app.get('/me', async () => ({ id: 'bare', role: 'user' }));
}
let ok = 0;
app.addHook('onResponse', async (_request, reply) => {
  if (reply.statusCode < 300) ok++;
});
await app.listen({ port: 0, host: '127.0.0.1' });
let since = process.cpuUsage();
process.on('message', (message) => {
  if (message === 'start') {
    ok = 0;
    since = process.cpuUsage();
  } else if (message === 'stop') {
    const used = process.cpuUsage(since);
    process.send?.({ cpuUs: used.user + used.system, ok });
  } else if (message === 'exit') {
    void app.close().then(() => process.exit(0));
  }
});
process.send?.({ port: (app.server.address() as AddressInfo).port });
