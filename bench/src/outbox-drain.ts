import type { OutboxStore } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';
import type pg from 'pg';
import { type Database, openDatabase } from './env';
import { fmt, now, ratio, type Section } from './report';

const EVENTS = Number(process.env['BENCH_OUTBOX_EVENTS'] ?? 20_000);
// Variants alternate over rounds (reversed every other round), so a machine that drifts slows none more.
const ROUNDS = 4;
const BATCH = 100;
const LEASE_MS = 60_000;
// How long the drain with migration 5's index runs: at its rate, draining everything would take minutes.
const OLD_INDEX_WINDOW_MS = 5_000;

/** The store's claim statement, written out by hand: the baseline the store's drain is compared with. */
const rawClaim = (s: string) => `UPDATE ${s}.outbox o
  SET attempts = o.attempts + 1, available_at = now() + $2::double precision * interval '1 millisecond'
  WHERE o.id IN (
    SELECT id FROM ${s}.outbox WHERE status = 'pending' AND available_at <= now()
    ORDER BY available_at, created_at LIMIT $1 FOR UPDATE SKIP LOCKED
  )
  RETURNING o.id, o.type, o.user_id, o.identity, o.actor, o.data, o.status, o.attempts, o.last_error,
            o.available_at, o.created_at, o.completed_at`;

/**
 * `n` pending events. `tied`: one statement, so every row shares the transaction's `now()` as `available_at`
 * (a bulk import with events, or a burst committed together); otherwise each has its own, as when written
 * by separate transactions.
 */
async function insertEvents(db: Database, n: number, tied: boolean): Promise<void> {
  const s = `"${db.schema}"`;
  await db.pool.query(
    tied
      ? `INSERT INTO ${s}.outbox (user_id, identity) SELECT 'u' || i, '{}'::jsonb FROM generate_series(1, $1) i`
      : `INSERT INTO ${s}.outbox (user_id, identity, available_at)
         SELECT 'u' || i, '{}'::jsonb, now() - ($1 - i) * interval '1 microsecond' FROM generate_series(1, $1) i`,
    [n],
  );
  await db.pool.query(`ANALYZE ${s}.outbox`);
}

interface Drained {
  events: number;
  seconds: number;
  /** Time spent in the claim statement alone. */
  claimSeconds: number;
  batches: number;
}

const add = (a: Drained, b: Drained): Drained => ({
  events: a.events + b.events,
  seconds: a.seconds + b.seconds,
  claimSeconds: a.claimSeconds + b.claimSeconds,
  batches: a.batches + b.batches,
});
const none: Drained = { events: 0, seconds: 0, claimSeconds: 0, batches: 0 };

/** Claim batches and complete each event (as a dispatcher does) until nothing is due or `windowMs` is up. */
async function drain(
  claim: () => Promise<Array<{ id: string }>>,
  complete: (id: string) => Promise<unknown>,
  windowMs = Number.POSITIVE_INFINITY,
): Promise<Drained> {
  const start = now();
  let events = 0;
  let claiming = 0;
  let batches = 0;
  while (now() - start < windowMs) {
    const claimStart = now();
    const batch = await claim();
    claiming += now() - claimStart;
    if (batch.length === 0) break;
    batches++;
    await Promise.all(batch.map((e) => complete(e.id)));
    events += batch.length;
  }
  return { events, seconds: (now() - start) / 1000, claimSeconds: claiming / 1000, batches };
}

const viaStore = (outbox: OutboxStore, windowMs?: number) =>
  drain(
    () => outbox.claim({ limit: BATCH, leaseMs: LEASE_MS }),
    (id) => outbox.complete(id),
    windowMs,
  );

function viaRaw(pool: pg.Pool, schema: string): Promise<Drained> {
  const s = `"${schema}"`;
  return drain(
    async () => (await pool.query<{ id: string }>(rawClaim(s), [BATCH, LEASE_MS])).rows,
    (id) =>
      pool.query(
        `UPDATE ${s}.outbox SET status = 'done', completed_at = now() WHERE id = $1 AND status = 'pending'`,
        [id],
      ),
  );
}

/** The claim's plan with `EVENTS` tied rows pending: which index, and whether anything is sorted. */
async function claimPlan(db: Database): Promise<string> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`PREPARE bench_claim(bigint, double precision) AS ${rawClaim(`"${db.schema}"`)}`);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN EXECUTE bench_claim(${BATCH}, ${LEASE_MS})`,
    );
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

const perSecond = (d: Drained) => d.events / d.seconds;

/**
 * Benchmark 10: draining the outbox when many events share one `available_at` (written by one transaction),
 * against events with distinct ones and against the raw claim statement. Migration 6's index serves the
 * claim's whole order; with migration 5's (`available_at` only) each claim sorted every tied row.
 */
export async function outboxDrainBenchmark(): Promise<Section> {
  const db = await openDatabase(10);
  const s = `"${db.schema}"`;
  try {
    const store = createPostgresStore({ pool: db.pool, schema: db.schema, listen: false });
    // Warm-up: connections open, the plan cached.
    await insertEvents(db, 1_000, true);
    await viaStore(store.outbox);

    await insertEvents(db, EVENTS, true);
    const plan = await claimPlan(db);
    await viaRaw(db.pool, db.schema);

    const variants = {
      spread: { tied: false, run: () => viaStore(store.outbox), total: none },
      tied: { tied: true, run: () => viaStore(store.outbox), total: none },
      raw: { tied: true, run: () => viaRaw(db.pool, db.schema), total: none },
    };
    const perRound = Math.ceil(EVENTS / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const order = Object.values(variants);
      for (const variant of round % 2 === 0 ? order : order.reverse()) {
        await insertEvents(db, perRound, variant.tied);
        variant.total = add(variant.total, await variant.run());
      }
    }
    const { spread, tied, raw } = {
      spread: variants.spread.total,
      tied: variants.tied.total,
      raw: variants.raw.total,
    };

    // What this was before migration 6, for scale: the old index only, for a fixed window.
    await db.pool.query(`DROP INDEX ${s}.outbox_claim_idx`);
    await db.pool.query(`CREATE INDEX outbox_due_idx ON ${s}.outbox (available_at) WHERE status = 'pending'`);
    await insertEvents(db, EVENTS, true);
    const before = await viaStore(store.outbox, OLD_INDEX_WINDOW_MS);

    const tiedRatio = ratio(perSecond(tied), perSecond(spread));
    const rawRatio = ratio(perSecond(tied), perSecond(raw));
    const sorted = /Sort/.test(plan);
    const indexed = plan.includes('outbox_claim_idx');
    const row = (name: string, d: Drained) => ({
      drain: name,
      events: d.events,
      seconds: fmt(d.seconds),
      'events/s': Math.round(perSecond(d)),
      'claim ms/batch': fmt((d.claimSeconds * 1000) / Math.max(1, d.batches)),
    });
    return {
      title: `10. outbox drain with tied available_at (${EVENTS.toLocaleString('en-US')} events per variant in ${ROUNDS} alternating rounds, claim ${BATCH}, complete each)`,
      rows: [
        row('store, distinct available_at (baseline)', spread),
        row('store, one available_at (one transaction)', tied),
        row('raw claim statement, one available_at', raw),
        row(`store, one available_at, migration 5's index (${OLD_INDEX_WINDOW_MS / 1000} s window)`, before),
      ],
      targets: [
        {
          name: 'tied ÷ distinct events/s (store)',
          measured: fmt(tiedRatio),
          goal: '≥ 0.80',
          pass: tiedRatio >= 0.8,
        },
        {
          name: 'store ÷ raw claim statement events/s (tied)',
          measured: fmt(rawRatio),
          goal: '≥ 0.80',
          pass: rawRatio >= 0.8,
        },
        {
          name: 'claim plan with tied rows',
          measured: `${indexed ? 'outbox_claim_idx' : 'another index'}, ${sorted ? 'sorts' : 'no sort'}`,
          goal: 'outbox_claim_idx, no sort',
          pass: indexed && !sorted,
        },
      ],
      notes: [
        `before migration 6 (index on available_at only), ${EVENTS.toLocaleString('en-US')} tied events drained at ${Math.round(perSecond(before))} events/s (${fmt(ratio(perSecond(tied), perSecond(before)), 1)}× slower), each claim sorting every tied row: ${fmt((before.claimSeconds * 1000) / Math.max(1, before.batches))} ms per claim instead of ${fmt((tied.claimSeconds * 1000) / Math.max(1, tied.batches))}; the gap grows with the number of tied rows`,
        'events/s include completing every event one statement at a time, as the dispatcher does; BENCH_OUTBOX_EVENTS sets the count (issue 27 measured 100,000)',
      ],
    };
  } finally {
    await db.close();
  }
}
