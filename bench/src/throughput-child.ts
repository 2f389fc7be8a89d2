/**
 * One app process of the `throughput` benchmark (forked by throughput.ts with tsx). Opens its own pool and
 * provisioner (caches off), answers `ready`, then runs each batch it is sent with `inFlight` calls in flight:
 * first logins of new identities (`ours`) or the raw insert a user would write (`raw`). Sends back each
 * call's latency (ms).
 */
import { randomUUID } from 'node:crypto';
import { createProvisioner } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';
import pg from 'pg';
import { pool as inFlightPool, now } from './report';

export interface Batch {
  kind: 'ours' | 'raw';
  /** Identities are `${prefix}-${i}`, i < count: distinct per process and round. */
  prefix: string;
  count: number;
}
export interface BatchDone {
  latencies: number[];
  errors: number;
  created: number;
}

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = 'https://bench.example.com';
const inFlight = Number(env('TP_IN_FLIGHT'));
const db = new pg.Pool({ connectionString: env('DATABASE_URL'), max: inFlight });
const schema = env('TP_SCHEMA');
const store = createPostgresStore({ pool: db, schema, listen: false });
const provisioner = createProvisioner({ store, userCache: false, tokenCache: false });
const insert = {
  name: 'bench-throughput-insert',
  text: `INSERT INTO "${schema}".users (id, issuer, subject, username, email, name, role, tenant_id)
         VALUES ($1, $2, $3, $4, $5, NULL, 'user', NULL) ON CONFLICT DO NOTHING RETURNING id`,
};

async function run(batch: Batch): Promise<BatchDone> {
  const latencies: number[] = [];
  let errors = 0;
  let created = 0;
  await inFlightPool(batch.count, inFlight, async (i) => {
    const subject = `${batch.prefix}-${i}`;
    const start = now();
    try {
      if (batch.kind === 'ours') {
        const result = await provisioner.ensureUserExists({
          issuer: ISSUER,
          subject,
          email: `${subject}@example.com`,
        });
        if (result.created) created++;
      } else {
        const { rows } = await db.query({
          ...insert,
          values: [randomUUID(), ISSUER, subject, `raw:${subject}`, `${subject}@example.com`],
        });
        if (rows.length === 1) created++;
      }
    } catch {
      errors++;
    }
    latencies.push(now() - start);
  });
  return { latencies, errors, created };
}

// Open every connection before the first batch, so the rounds measure SQL, not connecting.
await Promise.all(Array.from({ length: inFlight }, () => db.query('SELECT 1')));
process.on('message', (message: Batch | 'stop') => {
  if (message === 'stop') {
    void store.close().then(() => db.end().then(() => process.exit(0)));
    return;
  }
  void run(message).then((done) => process.send?.(done));
});
process.send?.('ready');
