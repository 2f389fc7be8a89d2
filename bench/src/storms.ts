import { randomUUID } from 'node:crypto';
import { createProvisioner, type Provisioner } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';
import { openDatabase } from './env';
import { fmt, now, pool, ratio, type Section } from './report';

const ISSUER = 'https://bench.example.com';
const CALLERS = 200;
const ROUNDS = 5;

/** 200 concurrent calls for one identity, spread over `instances` provisioners (as if that many processes). */
async function storm(provisioners: Provisioner[], subject: string) {
  const start = now();
  const results = await Promise.all(
    Array.from({ length: CALLERS }, (_, i) =>
      (provisioners[i % provisioners.length] as Provisioner).ensureUserExists({
        issuer: ISSUER,
        subject,
        email: `${subject}@example.com`,
      }),
    ),
  );
  return { wall: now() - start, results };
}

/** Benchmark 4: first-login storms on Postgres. */
export async function stormsBenchmark(): Promise<Section> {
  const db = await openDatabase(10);
  const rows: Section['rows'] = [];
  const targets: Section['targets'] = [];
  const run = randomUUID().slice(0, 8);
  try {
    const store = createPostgresStore({ pool: db.pool, schema: db.schema });
    for (const instances of [1, 8]) {
      // Caches off: every call reaches the store unless single-flight joins it to a running one.
      const provisioners = Array.from({ length: instances }, () =>
        createProvisioner({ store, userCache: false, tokenCache: false }),
      );
      const slowWalls: number[] = [];
      const fastWalls: number[] = [];
      let wrong = 0;
      for (let r = 0; r < ROUNDS + 1; r++) {
        const subject = `storm-${run}-${instances}-${r}`;
        const first = await storm(provisioners, subject);
        const again = await storm(provisioners, subject); // same identity, now existing: the fast path
        const ids = new Set(first.results.map((x) => x.user.id));
        const created = first.results.filter((x) => x.created).length;
        const { rows: count } = await db.pool.query(
          `SELECT count(*)::int AS n FROM ${db.table} WHERE subject = $1`,
          [subject],
        );
        if (ids.size !== 1 || created !== 1 || count[0].n !== 1) wrong++;
        if (r === 0) continue; // warm-up round
        slowWalls.push(first.wall);
        fastWalls.push(again.wall);
      }
      const slow = Math.min(...slowWalls);
      const fast = Math.min(...fastWalls);
      const label =
        instances === 1 ? 'one provisioner' : `${instances} provisioners (as ${instances} processes)`;
      rows.push({
        storm: `${CALLERS} first logins, one identity, ${label}`,
        'wall ms': slow,
        'fast-path wall ms': fast,
        ratio: fmt(ratio(slow, fast)),
        'rounds with ≠1 row/id/created': wrong,
      });
      targets.push({
        name: `storm, ${label}: wall ÷ 200 fast-path calls`,
        measured: fmt(ratio(slow, fast)),
        goal: '≤ 3.00',
        pass: ratio(slow, fast) <= 3,
      });
      targets.push({
        name: `storm, ${label}: 1 row, 1 id, 1 created in every round`,
        measured: `${wrong} wrong rounds`,
        goal: '0',
        pass: wrong === 0,
      });
    }

    // 1,000 distinct new users, 50 in flight, vs the raw single-statement insert under the same load.
    const USERS = 1_000;
    const IN_FLIGHT = 50;
    const provisioner = createProvisioner({ store });
    let errors = 0;
    const insert = {
      name: 'bench-storm-insert',
      text: `INSERT INTO ${db.table} (id, issuer, subject, username, email, name, role, tenant_id)
             VALUES ($1, $2, $3, $4, $5, NULL, 'user', NULL) ON CONFLICT DO NOTHING RETURNING *`,
    };
    const oursWalls: number[] = [];
    const rawWalls: number[] = [];
    for (let r = 0; r < 3; r++) {
      oursWalls.push(
        await pool(USERS, IN_FLIGHT, (i) =>
          provisioner
            .ensureUserExists({
              issuer: ISSUER,
              subject: `many-${run}-${r}-${i}`,
              email: `many-${i}@example.com`,
            })
            .catch(() => {
              errors++;
            }),
        ),
      );
      rawWalls.push(
        await pool(USERS, IN_FLIGHT, (i) =>
          db.pool.query({
            ...insert,
            values: [
              randomUUID(),
              ISSUER,
              `rawmany-${run}-${r}-${i}`,
              `raw:${run}:${r}:${i}`,
              `rawmany-${i}@example.com`,
            ],
          }),
        ),
      );
    }
    const ours = Math.min(...oursWalls);
    const raw = Math.min(...rawWalls);
    const { rows: made } = await db.pool.query(
      `SELECT count(*)::int AS n FROM ${db.table} WHERE subject LIKE $1`,
      [`many-${run}-0-%`],
    );
    const oursRate = (USERS * 1000) / ours;
    const rawRate = (USERS * 1000) / raw;
    rows.push({
      storm: `${USERS} distinct new users, ${IN_FLIGHT} in flight (ensureUserExists)`,
      'wall ms': ours,
      'fast-path wall ms': '-',
      ratio: `${Math.round(oursRate)} users/s`,
      'rounds with ≠1 row/id/created': `${errors} errors, ${made[0].n} rows`,
    });
    rows.push({
      storm: `${USERS} raw single-statement inserts, ${IN_FLIGHT} in flight`,
      'wall ms': raw,
      'fast-path wall ms': '-',
      ratio: `${Math.round(rawRate)} rows/s`,
      'rounds with ≠1 row/id/created': '-',
    });
    targets.push({
      name: `${USERS} new users: errors`,
      measured: String(errors),
      goal: '0',
      pass: errors === 0 && made[0].n === USERS,
    });
    targets.push({
      name: `${USERS} new users: throughput ÷ raw upsert`,
      measured: fmt(oursRate / rawRate),
      goal: '≥ 0.50',
      pass: oursRate / rawRate >= 0.5,
    });
    return {
      title: '4. Storms',
      rows,
      targets,
      notes: [
        `Pool of 10 connections; best of ${ROUNDS} rounds after one warm-up (1,000-user runs: best of 3, alternating). The fast-path baseline is the same 200 calls again once the user exists (caches off).`,
      ],
    };
  } finally {
    await db.close();
  }
}
