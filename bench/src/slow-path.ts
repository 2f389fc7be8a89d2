import { randomUUID } from 'node:crypto';
import { createProvisioner, type Store } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';
import { type Database, openDatabase, settle } from './env';
import { fmt, median, now, percentile, ratio, type Section } from './report';

const ISSUER = 'https://bench.example.com';
const ROUNDS = 5;
const PER_ROUND = 60;

async function sample(n: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = now();
    await call(i);
    times.push(now() - start);
  }
  return times;
}

/** `store` as a store without the optional combined method: what core does for a store that lacks it. */
export function withoutLookupOrCreate(store: Store): Store {
  const plain: Store = { ...store };
  delete plain.lookupOrCreate;
  return plain;
}

/** Queries sent per call of `call` over `n` fresh calls (writes it starts off the request path included). */
async function queriesPer(db: Database, n: number, call: (i: number) => Promise<unknown>): Promise<number> {
  db.resetQueries();
  for (let i = 0; i < n; i++) await call(i);
  await settle(); // let a lastSeen write started by the last call be counted
  return db.queries() / n;
}

/** Benchmark 3: first-login latency on Postgres, as a multiple of a `SELECT 1` round trip. */
export async function slowPathBenchmark(): Promise<Section> {
  const db = await openDatabase(10);
  try {
    const store = createPostgresStore({ pool: db.pool, schema: db.schema });
    const provisioner = createProvisioner({ store });
    // The path before lookupOrCreate (and of stores without it): a lookup that misses, then the insert.
    const twoTrips = createProvisioner({ store: withoutLookupOrCreate(store) });
    const run = randomUUID().slice(0, 8);
    const identity = (label: string, i: number) => ({
      issuer: ISSUER,
      subject: `${label}-${run}-${i}`,
      email: `${label}-${i}@example.com`,
    });
    // Warm-up: connections open, statements prepared.
    await sample(50, (i) => provisioner.ensureUserExists(identity('warm', i)));
    await sample(50, (i) => twoTrips.ensureUserExists(identity('warm2', i)));
    await sample(50, () => db.pool.query('SELECT 1'));
    // What a user would write by hand: the same statement as the storms' and throughput's raw baseline.
    const insert = {
      name: 'bench-raw-insert',
      text: `INSERT INTO ${db.table} (id, issuer, subject, username, email, name, role, tenant_id)
             VALUES ($1, $2, $3, $4, $5, NULL, 'user', NULL) ON CONFLICT DO NOTHING RETURNING id`,
    };
    const series = {
      select1: [] as number[],
      raw: [] as number[],
      ours: [] as number[],
      old: [] as number[],
    };
    const ratios = { raw: [] as number[], ours: [] as number[], old: [] as number[] };
    const created: boolean[] = [];
    const login = async (label: string, p: typeof provisioner, i: number) => {
      const result = await p.ensureUserExists(identity(label, i));
      created.push(result.created && result.path === 'slow');
    };
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved call by call, so a burst of outside load hits every series alike.
      const round = {
        select1: [] as number[],
        raw: [] as number[],
        ours: [] as number[],
        old: [] as number[],
      };
      for (let j = 0; j < PER_ROUND; j++) {
        const i = r * PER_ROUND + j;
        round.select1.push(...(await sample(1, () => db.pool.query('SELECT 1'))));
        round.raw.push(
          ...(await sample(1, () =>
            db.pool.query({
              ...insert,
              values: [randomUUID(), ISSUER, `raw-${run}-${i}`, `raw:${run}:${i}`, `raw-${i}@example.com`],
            }),
          )),
        );
        round.ours.push(...(await sample(1, () => login('new', provisioner, i))));
        round.old.push(...(await sample(1, () => login('old', twoTrips, i))));
      }
      const base = percentile(round.select1, 50);
      for (const k of ['raw', 'ours', 'old'] as const) ratios[k].push(ratio(percentile(round[k], 50), base));
      for (const k of Object.keys(series) as Array<keyof typeof series>) series[k].push(...round[k]);
    }
    if (created.some((c) => !c)) throw new Error('a first login did not take the slow path');
    const queries = await queriesPer(db, 50, (i) => provisioner.ensureUserExists(identity('count', i)));
    const oldQueries = await queriesPer(db, 50, (i) => twoTrips.ensureUserExists(identity('count2', i)));
    const row = (label: string, times: number[], ratios: number[] | undefined, perLogin: string) => ({
      call: label,
      'p50 ms': percentile(times, 50),
      'p99 ms': percentile(times, 99),
      'p50 × SELECT 1 (median of rounds)': ratios === undefined ? '1.00' : fmt(median(ratios)),
      'queries / call': perLogin,
    });
    const multiple = median(ratios.ours);
    return {
      title: '3. Slow path: first-login latency on Postgres',
      rows: [
        row('SELECT 1 (same pool)', series.select1, undefined, '1'),
        row('raw INSERT … ON CONFLICT DO NOTHING RETURNING id', series.raw, ratios.raw, '1'),
        row('ensureUserExists, first login (store.lookupOrCreate)', series.ours, ratios.ours, fmt(queries)),
        row(
          '  the same without lookupOrCreate (lookup miss + insert)',
          series.old,
          ratios.old,
          fmt(oldQueries),
        ),
      ],
      targets: [
        {
          name: 'first login p50 ÷ SELECT 1 p50',
          measured: fmt(multiple),
          goal: '≤ 3.00',
          pass: multiple <= 3,
        },
      ],
      notes: [
        `${ROUNDS} rounds of ${PER_ROUND} serial first logins of distinct new identities, interleaved call by call with SELECT 1, the raw INSERT and the two-round-trip path; each ratio is the median over the rounds of that round's p50 ÷ its SELECT 1 p50. The raw INSERT row is what one committed write costs on this machine (WAL flush included).`,
        'Queries per call are counted at the pg client over 50 further first logins, writes started off the request path included (a lastSeen write: none when the insert already sets last_seen_at).',
      ],
    };
  } finally {
    await db.close();
  }
}
