import { createProvisioner, type Provisioner } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';
import {
  runInvalidationFleet,
  type ScimSend,
  scimActiveChanges,
  scimOnHono,
} from '../../packages/scim/src/test-support/fleet';
import { DATABASE_URL, openDatabase } from './env';
import { alternate } from './fast-path';
import { fmt, now, percentile, pool, ratio, type Section } from './report';

const ISSUER = 'https://bench-scim.example.com';
const USERS = Number(process.env['SCIM_BENCH_USERS'] ?? 10_000);
const IN_FLIGHT = 20;
const LOOKUPS = 2_000;
const PROCESSES = 4;
const CHANGES = 60;

const userBody = (i: number, run: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: `${run}-user-${i}@example.com`,
  externalId: `${run}-oid-${i}`,
  name: { givenName: `Given${i}`, familyName: 'Bench' },
  emails: [{ value: `${run}-user-${i}@example.com`, type: 'work', primary: true }],
  active: true,
});

/** Initial sync: SCIM POSTs through the route table vs the raw one-statement insert of the same rows. */
async function initialSync(rows: Section['rows'], targets: Section['targets']): Promise<void> {
  const db = await openDatabase(IN_FLIGHT);
  try {
    const store = createPostgresStore({ pool: db.pool, schema: db.schema, listen: false });
    const provisioner = createProvisioner({
      store,
      issuers: [{ issuer: ISSUER, audience: 'bench', externalIdClaim: 'oid' }],
    });
    const send = scimOnHono(provisioner, ISSUER);
    const insert = {
      name: 'bench-scim-raw-insert',
      text: `INSERT INTO ${db.table} (id, issuer, subject, username, role, email, name, external_id)
             VALUES (gen_random_uuid()::text, $1, $2, $3, 'user', $4, $5, $6)`,
    };
    const ours = async () => {
      const t0 = now();
      await pool(USERS, IN_FLIGHT, async (i) => {
        const res = await send('POST', '/Users', userBody(i, 'sync'));
        if (res.status !== 201) throw new Error(`POST /Users answered ${res.status}`);
      });
      return now() - t0;
    };
    const raw = async () => {
      const t0 = now();
      await pool(USERS, IN_FLIGHT, async (i) => {
        await db.pool.query({
          ...insert,
          values: [
            `${ISSUER}/raw`,
            `raw-${i}`,
            `oidc:raw:${i}`,
            `raw-${i}@example.com`,
            `Raw ${i}`,
            `raw-oid-${i}`,
          ],
        });
      });
      return now() - t0;
    };
    const oursMs = await ours();
    const rawMs = await raw();
    const cost = ratio(oursMs, rawMs);
    rows.push(
      {
        measure: `initial sync: ${USERS.toLocaleString('en-US')} SCIM POSTs (${IN_FLIGHT} in flight)`,
        value: `${fmt(oursMs, 0)} ms (${fmt((USERS * 1000) / oursMs, 0)} users/s)`,
        ratio: fmt(cost),
      },
      {
        measure: `raw one-statement INSERTs of the same rows, same pool`,
        value: `${fmt(rawMs, 0)} ms (${fmt((USERS * 1000) / rawMs, 0)} rows/s)`,
        ratio: '1.00',
      },
    );
    targets.push({
      name: `initial sync through SCIM ÷ raw inserts (${USERS} users)`,
      measured: fmt(cost),
      goal: 'measured (a SCIM create writes the user row, its SCIM row and reads it back)',
      pass: true,
    });
    await lookups(db, provisioner, send, rows, targets);
    await provisioner.close();
    await store.close();
  } finally {
    await db.close();
  }
}

/** A `userName eq` lookup through the store's SCIM part vs the raw indexed SELECT it compiles to. */
async function lookups(
  db: Awaited<ReturnType<typeof openDatabase>>,
  provisioner: Provisioner,
  send: ScimSend,
  rows: Section['rows'],
  targets: Section['targets'],
): Promise<void> {
  const scim = provisioner.directory?.({ issuer: ISSUER }).scim;
  if (scim === undefined) throw new Error('no SCIM part');
  const name = (i: number) => `SYNC-user-${(i * 7919) % USERS}@EXAMPLE.com`; // case-changed, as Okta's test sends
  const select = {
    name: 'bench-scim-raw-select',
    text: `SELECT u.*, su.* FROM "${db.schema}".scim_users su JOIN ${db.table} u ON u.id = su.user_id
           WHERE su.issuer = $1 AND lower(su.user_name) = lower($2) AND NOT su.hidden`,
  };
  const perCall = (run: (i: number) => Promise<void>) => async () =>
    ((await pool(LOOKUPS, 10, run)) * 1000) / LOOKUPS;
  const ours = perCall(async (i) => {
    const page = await scim.findUsers(ISSUER, {
      filter: { op: 'eq', attribute: 'userName', value: name(i) },
      startIndex: 1,
      count: 100,
    });
    if (page.resources.length !== 1) throw new Error('lookup missed');
  });
  const raw = perCall(async (i) => {
    const { rows: found } = await db.pool.query({ ...select, values: [ISSUER, name(i)] });
    if (found.length !== 1) throw new Error('raw lookup missed');
  });
  const http = perCall(async (i) => {
    const res = await send('GET', `/Users?filter=${encodeURIComponent(`userName eq "${name(i)}"`)}`);
    if (res.status !== 200) throw new Error(`GET /Users answered ${res.status}`);
  });
  await ours();
  await raw();
  await http();
  const best = await alternate(5, ours, raw);
  const httpUs = (await alternate(3, http, raw)).a;
  const cost = ratio(best.a, best.b);
  rows.push(
    {
      measure: 'userName eq (case-changed): store.scim.findUsers, 10 in flight',
      value: `${fmt(best.a, 1)} µs/call`,
      ratio: fmt(cost),
    },
    {
      measure: 'raw prepared indexed SELECT of the same row, same pool',
      value: `${fmt(best.b, 1)} µs/call`,
      ratio: '1.00',
    },
    {
      measure: 'GET /Users?filter=userName eq … through the route table',
      value: `${fmt(httpUs, 1)} µs/call`,
      ratio: fmt(ratio(httpUs, best.b)),
    },
  );
  targets.push({
    name: 'SCIM userName eq lookup ÷ raw indexed SELECT',
    measured: fmt(cost),
    goal: '≤ 1.20',
    pass: cost <= 1.2,
  });
}

/**
 * Benchmark: SCIM. The initial sync of a directory through SCIM POSTs against raw inserts; a `userName eq`
 * lookup against the raw SELECT; and deprovision-to-refusal across 4 app processes on one Postgres (Entra's
 * PATCH of `active` through a SCIM endpoint in a fifth process, until every process refuses the user).
 */
export async function scimBenchmark(): Promise<Section> {
  const rows: Section['rows'] = [];
  const targets: Section['targets'] = [];
  await initialSync(rows, targets);
  const db = await openDatabase(4);
  try {
    const run = await runInvalidationFleet({
      url: DATABASE_URL,
      schema: db.schema,
      processes: PROCESSES,
      changes: CHANGES,
      variants: scimActiveChanges(),
      deadlineMs: 30_000,
    });
    for (const [change, sample] of Object.entries(run.latencies)) {
      rows.push({
        measure: `${change} → seen by all ${PROCESSES} processes (p50 / p99)`,
        value: `${fmt(percentile(sample, 50), 1)} / ${fmt(percentile(sample, 99), 1)} ms`,
        ratio: '',
      });
    }
    const off = run.latencies['SCIM PATCH active "False"'] ?? [];
    const p99 = percentile(off, 99);
    targets.push({
      name: `deprovision (SCIM active false) refused by all ${PROCESSES} processes, p99`,
      measured: `${fmt(p99, 1)} ms (p50 ${fmt(percentile(off, 50), 1)} ms)`,
      goal: '≤ 250 ms',
      pass: p99 <= 250,
    });
  } finally {
    await db.close();
  }
  return {
    title: `SCIM (${USERS.toLocaleString('en-US')} users; deprovisioning across ${PROCESSES} processes)`,
    rows,
    targets,
    notes: [
      'A SCIM create is a transaction (user row, SCIM row, read back) plus JSON parse and render; the raw baseline is one INSERT of the user row.',
      "Deprovision latency runs from just before the PATCH is sent to each process's first request that is refused (each process polls every ms, user cache on, feed on).",
    ],
  };
}
