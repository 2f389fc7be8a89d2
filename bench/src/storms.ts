import { randomUUID } from 'node:crypto';
import { createProvisioner, type Provisioner } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';
import { openDatabase, settle } from './env';
import { fmt, median, now, pool, ratio, type Section } from './report';

const ISSUER = 'https://bench.example.com';
const CALLERS = 200;
const ROUNDS = 15;
const USER_ROUNDS = 5;

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
      const ratios: number[] = [];
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
        ratios.push(ratio(first.wall, again.wall));
      }
      const slow = median(slowWalls);
      const fast = median(fastWalls);
      const stormRatio = median(ratios);
      const label =
        instances === 1 ? 'one provisioner' : `${instances} provisioners (as ${instances} processes)`;
      rows.push({
        storm: `${CALLERS} first logins, one identity, ${label}`,
        'wall ms': slow,
        'fast-path wall ms': fast,
        ratio: fmt(stormRatio),
        'rounds with ≠1 row/id/created': wrong,
      });
      targets.push({
        name: `storm, ${label}: wall ÷ 200 fast-path calls`,
        measured: fmt(stormRatio),
        goal: '≤ 3.00',
        pass: stormRatio <= 3,
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
             VALUES ($1, $2, $3, $4, $5, NULL, 'user', NULL) ON CONFLICT DO NOTHING RETURNING id`,
    };
    const oursWalls: number[] = [];
    const rawWalls: number[] = [];
    const userRatios: number[] = [];
    let queries = 0;
    for (let r = 0; r < USER_ROUNDS + 1; r++) {
      db.resetQueries();
      const oursWall = await pool(USERS, IN_FLIGHT, (i) =>
        provisioner
          .ensureUserExists({
            issuer: ISSUER,
            subject: `many-${run}-${r}-${i}`,
            email: `many-${i}@example.com`,
          })
          .catch(() => {
            errors++;
          }),
      );
      await settle(); // a write started off the request path is counted with its login
      queries += db.queries();
      const rawWall = await pool(USERS, IN_FLIGHT, (i) =>
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
      );
      if (r === 0) continue; // warm-up round
      oursWalls.push(oursWall);
      rawWalls.push(rawWall);
      userRatios.push(rawWall / oursWall);
    }
    const ours = median(oursWalls);
    const raw = median(rawWalls);
    const throughputRatio = median(userRatios);
    const queriesPerLogin = queries / (USERS * (USER_ROUNDS + 1));
    const { rows: made } = await db.pool.query(
      `SELECT count(*)::int AS n FROM ${db.table} WHERE subject LIKE $1`,
      [`many-${run}-1-%`],
    );
    const oursRate = (USERS * 1000) / ours;
    const rawRate = (USERS * 1000) / raw;
    rows.push({
      storm: `${USERS} distinct new users, ${IN_FLIGHT} in flight (ensureUserExists)`,
      'wall ms': ours,
      'fast-path wall ms': '-',
      ratio: `${Math.round(oursRate)} users/s, ${fmt(queriesPerLogin)} queries/login`,
      'rounds with ≠1 row/id/created': `${errors} errors, ${made[0].n} rows`,
    });
    rows.push({
      storm: `${USERS} raw INSERT … ON CONFLICT DO NOTHING RETURNING id, ${IN_FLIGHT} in flight`,
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
      name: `${USERS} new users: throughput ÷ raw insert`,
      measured: fmt(throughputRatio),
      goal: '≥ 0.60',
      pass: throughputRatio >= 0.6,
    });
    return {
      title: '4. Storms',
      rows,
      targets,
      notes: [
        `Pool of 10 connections; each ratio is the median over ${ROUNDS} interleaved rounds (after one warm-up) of that round's ratio, walls are medians too. The fast-path baseline is the same 200 calls again once the user exists (caches off). The 1,000-user runs (${USER_ROUNDS} rounds, alternating with the raw inserts) use the default provisioner (caches on); the raw baseline is \`INSERT … ON CONFLICT DO NOTHING RETURNING id\`, the statement a user would write; queries/login are counted at the pg client, writes off the request path included.`,
      ],
    };
  } finally {
    await db.close();
  }
}
