import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Provisioner } from '@jit-provision/core';
import { createMemoryStore } from '@jit-provision/store-memory';
import { createPostgresStore, migrate, type PostgresStore } from '@jit-provision/store-postgres';
import { runHostileInputSuite } from '@jit-provision/testing';
import { Hono } from 'hono';
import { afterAll, describe } from 'vitest';
import { jitProvision } from './index';

/** What @hono/node-server does for a GET: raw header lines → web Headers (repeats are appended). */
function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  return new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
  });
}

async function listen(provisioner: Provisioner, { maxHeaderSize }: { maxHeaderSize: number }) {
  const app = new Hono();
  app.use('*', jitProvision(provisioner));
  app.get('/me', (c) => c.json({ auth: c.get('auth') }));
  const server = createServer({ maxHeaderSize }, (req, res) => {
    Promise.resolve(app.fetch(toRequest(req))).then(
      async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      },
      (err: unknown) => res.destroy(err as Error),
    );
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

runHostileInputSuite({ name: 'hono', createStore: createMemoryStore, listen });

// The real @hono/node-server: the adapter reads `c.env.incoming` there instead of web Headers.
async function listenNodeServer(provisioner: Provisioner, { maxHeaderSize }: { maxHeaderSize: number }) {
  const app = new Hono();
  app.use('*', jitProvision(provisioner));
  app.get('/me', (c) => c.json({ auth: c.get('auth') }));
  const server = serve({
    fetch: app.fetch,
    port: 0,
    hostname: '127.0.0.1',
    createServer,
    serverOptions: { maxHeaderSize },
  });
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

runHostileInputSuite({
  name: 'hono on @hono/node-server',
  createStore: createMemoryStore,
  listen: listenNodeServer,
});

// The same table on store-postgres, counting every statement the pool runs: refusals cost zero queries,
// and SQL-looking identities go through parameterised statements verbatim.
const DATABASE_URL = process.env['DATABASE_URL'];
describe.skipIf(DATABASE_URL === undefined)('with store-postgres (needs DATABASE_URL)', () => {
  const schema = `hostile_${randomBytes(4).toString('hex')}`;
  let store: PostgresStore | undefined;
  let queries = 0;
  afterAll(async () => {
    await store?.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await store?.close();
  });
  runHostileInputSuite({
    name: 'hono + store-postgres',
    async createStore() {
      await migrate(DATABASE_URL as string, { schema });
      store = createPostgresStore({ connectionString: DATABASE_URL as string, schema });
      const counted = new WeakSet<object>();
      store.pool.on('acquire', (client) => {
        if (counted.has(client)) return;
        counted.add(client);
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as { query: unknown }).query = (...args: unknown[]) => {
          queries += 1;
          return query(...args);
        };
      });
      return store;
    },
    queryCount: () => queries,
    listen,
  });
});
