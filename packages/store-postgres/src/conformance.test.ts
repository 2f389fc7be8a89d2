import { createServer } from 'node:net';
import { runStoreConformance } from '@jit-provision/testing';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createPostgresStore } from './index';
import { createTestDatabase, type TestDatabase } from './test-support/database';

/** A loopback port nothing listens on: bind port 0, note it, close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let db: TestDatabase;
let deadPort: number;
const brokenPools: pg.Pool[] = [];
beforeAll(async () => {
  db = await createTestDatabase('conformance');
  deadPort = await closedPort();
  // A long-lived schema: more finished events than any `list` default or page the kit might rely on.
  await db.pool.query(
    `INSERT INTO "${db.schema}".outbox (user_id, identity, status, attempts, completed_at)
     SELECT 'prefill-' || g, '{"issuer":"https://prefill.test","subject":"p"}'::jsonb, 'done', 1, now()
     FROM generate_series(1, 1100) AS g`,
  );
});
afterAll(async () => {
  await Promise.all(brokenPools.map((p) => p.end()));
  await db?.close();
});

const label = process.env['DATABASE_URL'] ? 'Postgres' : 'PGlite';
const options = {
  // PGlite's socket server serves one connection at a time: a held listener connection would starve the pool.
  createStore: () =>
    createPostgresStore({
      pool: db.pool,
      schema: db.schema,
      ...(db.multiConnection ? {} : { listen: false }),
    }),
  createBrokenStore: () => {
    const pool = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:${deadPort}/unreachable`,
      connectionTimeoutMillis: 2_000,
    });
    brokenPools.push(pool);
    return createPostgresStore({ pool, schema: db.schema });
  },
};

// Twice on one schema, the first already holding 1,100 outbox rows: every case must find its own rows in a
// shared, already-used database, as the kit promises store authors.
runStoreConformance({ name: `store-postgres (${label})`, ...options });
runStoreConformance({ name: `store-postgres (${label}, same schema again)`, ...options });
