/**
 * Which SQL form should `@jit-provision/store-postgres` use for `upsert`? Runs each form under the same
 * storms on a real Postgres and prints wall time plus correctness counts (rows, created, missing, errors).
 *
 *   npx tsx bench/upsert-forms.ts            # DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test
 *   ROUNDS=9 CALLERS=200 POOL=20 npx tsx bench/upsert-forms.ts
 *
 * Forms:
 *   nothing+select  INSERT … ON CONFLICT DO NOTHING (no conflict target) RETURNING; when empty, a separate
 *                   SELECT (+ UPDATE if email/name changed). Correct: every unique index arbitrates. The form
 *                   the store ships.
 *   update+xmax     INSERT … ON CONFLICT (issuer, subject) DO UPDATE SET … RETURNING …, (xmax = 0) AS created.
 *                   Correct for a table with one unique key, but `users` also has UNIQUE (username): DO UPDATE
 *                   needs a target, the username index is then not an arbiter, and racers occasionally fail
 *                   with a unique violation or a deadlock there. Every conflicting caller also writes a row version.
 *   cte-union       WITH ins AS (… DO NOTHING RETURNING …) SELECT … UNION ALL SELECT …. Known WRONG: under READ
 *                   COMMITTED the outer SELECT runs on the snapshot taken before the insert waited, so racers
 *                   that lost get no row. Kept here to show the failure, never shipped.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { runMigrations } from '../packages/store-postgres/src/migrations';

const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Number(process.env['ROUNDS'] ?? 7);
const CALLERS = Number(process.env['CALLERS'] ?? 200);
const POOL = Number(process.env['POOL'] ?? 20);
const schema = `bench_upsert_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const s = `"${schema}"`;
const COLS = 'id, issuer, subject, username, email, name, role, tenant_id, created_at, updated_at';

interface Input {
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
}
type Outcome = { row: Record<string, unknown> | null; created: boolean };
type Form = (pool: pg.Pool, input: Input) => Promise<Outcome>;

const values = (i: Input) => [
  randomUUID(),
  i.issuer,
  i.subject,
  `oidc:bench:${i.issuer}:${i.subject}`,
  i.email,
  i.name,
];

const forms: Record<string, Form> = {
  'nothing+select': async (pool, input) => {
    const inserted = await pool.query({
      name: `bench_ins_${schema}`,
      text: `INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role)
             VALUES ($1, $2, $3, $4, $5, $6, 'user') ON CONFLICT DO NOTHING RETURNING ${COLS}`,
      values: values(input),
    });
    if (inserted.rows[0] !== undefined) return { row: inserted.rows[0], created: true };
    const found = await pool.query({
      name: `bench_sel_${schema}`,
      text: `SELECT ${COLS} FROM ${s}.users WHERE issuer = $1 AND subject = $2`,
      values: [input.issuer, input.subject],
    });
    const row = found.rows[0] as { email: string | null; name: string | null } | undefined;
    if (row === undefined) return { row: null, created: false };
    const changed =
      (input.email !== null && input.email !== row.email) || (input.name !== null && input.name !== row.name);
    if (!changed) return { row, created: false };
    const updated = await pool.query(
      `UPDATE ${s}.users SET email = COALESCE($3, email), name = COALESCE($4, name), updated_at = now()
       WHERE issuer = $1 AND subject = $2 RETURNING ${COLS}`,
      [input.issuer, input.subject, input.email, input.name],
    );
    return { row: updated.rows[0] ?? null, created: false };
  },

  'update+xmax': async (pool, input) => {
    const result = await pool.query({
      name: `bench_upd_${schema}`,
      text: `INSERT INTO ${s}.users AS u (id, issuer, subject, username, email, name, role)
             VALUES ($1, $2, $3, $4, $5, $6, 'user')
             ON CONFLICT (issuer, subject) DO UPDATE SET
               email = COALESCE(EXCLUDED.email, u.email),
               name = COALESCE(EXCLUDED.name, u.name),
               updated_at = CASE WHEN COALESCE(EXCLUDED.email, u.email) IS DISTINCT FROM u.email
                                   OR COALESCE(EXCLUDED.name, u.name) IS DISTINCT FROM u.name
                                 THEN now() ELSE u.updated_at END
             RETURNING ${COLS}, (xmax = 0) AS created`,
      values: values(input),
    });
    const row = result.rows[0] as { created: boolean } | undefined;
    return { row: row ?? null, created: row?.created === true };
  },

  'cte-union (WRONG)': async (pool, input) => {
    const result = await pool.query({
      name: `bench_cte_${schema}`,
      text: `WITH ins AS (
               INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role)
               VALUES ($1, $2, $3, $4, $5, $6, 'user') ON CONFLICT (issuer, subject) DO NOTHING
               RETURNING ${COLS}
             )
             SELECT *, true AS created FROM ins
             UNION ALL
             SELECT ${COLS}, false AS created FROM ${s}.users WHERE issuer = $2 AND subject = $3`,
      values: values(input),
    });
    const row = result.rows.find((r: { created: boolean }) => r.created) ?? result.rows[0];
    return { row: row ?? null, created: row?.created === true };
  },
};

interface Tally {
  ms: number;
  rows: number;
  created: number;
  missing: number;
  errors: number;
  ids: number;
}

async function storm(pool: pg.Pool, form: Form, inputs: Input[]): Promise<Tally> {
  const started = performance.now();
  const settled = await Promise.allSettled(inputs.map((input) => form(pool, input)));
  const ms = performance.now() - started;
  const ok = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  for (const r of settled)
    if (r.status === 'rejected') errorSamples.add(`${current}: ${(r.reason as Error).message}`);
  return {
    ms,
    rows: ok.filter((o) => o.row !== null).length,
    created: ok.filter((o) => o.created).length,
    missing: ok.filter((o) => o.row === null).length,
    errors: settled.length - ok.length,
    ids: new Set(ok.flatMap((o) => (o.row === null ? [] : [o.row['id']]))).size,
  };
}

const errorSamples = new Set<string>();
let current = '';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const scenarios: Record<string, (round: number, form: string) => Input[]> = {
  // First login of one person, fired by many requests at once (the race the store exists for).
  [`${CALLERS} callers, 1 new identity`]: (round, form) =>
    Array.from({ length: CALLERS }, () => ({
      issuer: 'https://storm',
      subject: `${form}-one-${round}`,
      email: 'storm@example.com',
      name: null,
    })),
  // First logins of many people at once: no conflicts, one round trip each.
  [`${CALLERS} callers, ${CALLERS} new identities`]: (round, form) =>
    Array.from({ length: CALLERS }, (_, i) => ({
      issuer: 'https://many',
      subject: `${form}-many-${round}-${i}`,
      email: `u${i}@example.com`,
      name: null,
    })),
  // Everyone already exists (cache-cold slow path for returning users), unchanged profile.
  [`${CALLERS} callers, 1 existing identity`]: (_round, form) =>
    Array.from({ length: CALLERS }, () => ({
      issuer: 'https://existing',
      subject: `${form}-existing`,
      email: 'storm@example.com',
      name: null,
    })),
};

const pool = new pg.Pool({ connectionString: url, max: POOL });
pool.on('error', () => {});
await runMigrations(pool, { schema });
try {
  console.log(
    `upsert forms: ${ROUNDS} rounds (median shown), pool max ${POOL}, ${url.replace(/:[^:@/]*@/, ':***@')}`,
  );
  for (const [scenario, make] of Object.entries(scenarios)) {
    console.log(`\n${scenario}`);
    console.log(
      '  form                 median ms   min ms   rows/callers  created  missing  errors  distinct ids',
    );
    for (const [name, form] of Object.entries(forms)) {
      current = name;
      await storm(pool, form, make(-1, name)); // warm-up: prepares statements, fills the pool
      const tallies: Tally[] = [];
      for (let round = 0; round < ROUNDS; round++) tallies.push(await storm(pool, form, make(round, name)));
      const sum = (k: keyof Tally) => tallies.reduce((acc, t) => acc + t[k], 0);
      console.log(
        `  ${name.padEnd(20)} ${median(tallies.map((t) => t.ms))
          .toFixed(1)
          .padStart(9)} ${Math.min(...tallies.map((t) => t.ms))
          .toFixed(1)
          .padStart(8)}` +
          `   ${`${sum('rows')}/${ROUNDS * CALLERS}`.padStart(12)} ${String(sum('created')).padStart(8)} ${String(sum('missing')).padStart(8)}` +
          ` ${String(sum('errors')).padStart(7)} ${String(sum('ids')).padStart(13)}`,
      );
    }
  }
  if (errorSamples.size > 0)
    console.log(`\nerrors seen (warm-ups included):\n  ${[...errorSamples].join('\n  ')}`);
  console.log(
    '\ncreated/distinct ids are summed over rounds: correct is ROUNDS per one-identity storm (0 for existing),' +
      ` ${ROUNDS * CALLERS} for many identities; missing and errors must be 0.`,
  );
} finally {
  await pool.query(`DROP SCHEMA ${s} CASCADE`);
  await pool.end();
}
