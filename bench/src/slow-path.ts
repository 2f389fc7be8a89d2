import { randomUUID } from 'node:crypto';
import { createProvisioner } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';
import { openDatabase } from './env';
import { fmt, now, percentile, ratio, type Section } from './report';

const ISSUER = 'https://bench.example.com';
const N = 300;

async function sample(n: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = now();
    await call(i);
    times.push(now() - start);
  }
  return times;
}

/** Benchmark 3: first-login latency on Postgres, as a multiple of a `SELECT 1` round trip. */
export async function slowPathBenchmark(): Promise<Section> {
  const db = await openDatabase(10);
  try {
    const provisioner = createProvisioner({
      store: createPostgresStore({ pool: db.pool, schema: db.schema }),
    });
    const run = randomUUID().slice(0, 8);
    const identity = (i: number) => ({
      issuer: ISSUER,
      subject: `new-${run}-${i}`,
      email: `new-${i}@example.com`,
    });
    // Warm-up: connections open, statements prepared.
    await sample(50, (i) => provisioner.ensureUserExists(identity(N + i)));
    await sample(50, () => db.pool.query('SELECT 1'));
    const insert = {
      name: 'bench-raw-insert',
      text: `INSERT INTO ${db.table} (id, issuer, subject, username, email, name, role, tenant_id)
             VALUES ($1, $2, $3, $4, $5, NULL, 'user', NULL) ON CONFLICT DO NOTHING RETURNING *`,
    };
    // Interleaved call by call, so a burst of outside load hits all three series alike.
    const select1: number[] = [];
    const rawInsert: number[] = [];
    const slow: number[] = [];
    const created: boolean[] = [];
    for (let i = 0; i < N; i++) {
      select1.push(...(await sample(1, () => db.pool.query('SELECT 1'))));
      rawInsert.push(
        ...(await sample(1, () =>
          db.pool.query({
            ...insert,
            values: [randomUUID(), ISSUER, `raw-${run}-${i}`, `raw:${run}:${i}`, `raw-${i}@example.com`],
          }),
        )),
      );
      slow.push(
        ...(await sample(1, async () => {
          const result = await provisioner.ensureUserExists(identity(i));
          created.push(result.created && result.path === 'slow');
        })),
      );
    }
    if (created.some((c) => !c)) throw new Error('a first login did not take the slow path');
    const base = percentile(select1, 50);
    const row = (label: string, times: number[]) => ({
      call: label,
      'p50 ms': percentile(times, 50),
      'p99 ms': percentile(times, 99),
      'p50 × SELECT 1': fmt(ratio(percentile(times, 50), base)),
    });
    const rows = [
      row('SELECT 1 (same pool)', select1),
      row('raw INSERT … ON CONFLICT DO NOTHING RETURNING (one statement)', rawInsert),
      row('ensureUserExists, first login (lookup miss + insert)', slow),
    ];
    const multiple = ratio(percentile(slow, 50), base);
    return {
      title: '3. Slow path: first-login latency on Postgres',
      rows,
      targets: [
        {
          name: 'first login p50 ÷ SELECT 1 p50',
          measured: fmt(multiple),
          goal: '≤ 4.00',
          pass: multiple <= 4,
        },
      ],
      notes: [
        `${N} serial first logins of distinct new identities, interleaved call by call with SELECT 1 and a raw INSERT; the raw INSERT row shows what one committed write costs on this machine (WAL flush included).`,
      ],
    };
  } finally {
    await db.close();
  }
}
