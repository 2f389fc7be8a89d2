import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTs } from './test-support/child-process';
import {
  createTestDatabase,
  DATABASE_URL,
  PGLITE_SKIP_REASON,
  type TestDatabase,
} from './test-support/database';

const PROCESSES = 4;
const CALLS = 50;
const IDENTITIES = 20;

describe.skipIf(DATABASE_URL === undefined)(
  `multi-process race (skipped under PGlite: ${PGLITE_SKIP_REASON})`,
  () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase('race');
    });
    afterAll(async () => {
      await db?.close();
    });

    it.each([
      ['inline hooks', '0'],
      ['outbox mode (one user.provisioned event per user)', '1'],
    ])(
      `${PROCESSES} processes × ${CALLS} parallel first logins over ${IDENTITIES} identities, %s: ${IDENTITIES} users, ${IDENTITIES} created`,
      async (_label, outbox) => {
        const issuer = `https://race-${randomBytes(4).toString('hex')}.test`;
        const children = Array.from({ length: PROCESSES }, () =>
          runTs('./race-child.ts', [], {
            DATABASE_URL: db.url,
            RACE_SCHEMA: db.schema,
            RACE_ISSUER: issuer,
            RACE_CALLS: String(CALLS),
            RACE_IDENTITIES: String(IDENTITIES),
            RACE_OUTBOX: outbox,
          }),
        );
        await Promise.all(children.map((child) => child.line((l) => l === 'ready')));
        for (const child of children) child.send('go');
        const outputs = await Promise.all(children.map((child) => child.line((l) => l.startsWith('['))));
        const exits = await Promise.all(children.map((child) => child.exited));
        expect(exits.map((e) => e.code)).toEqual(Array(PROCESSES).fill(0));

        type Result = { subject: string; id: string; created: boolean } | { error: string };
        const results = outputs.flatMap((line) => JSON.parse(line) as Result[]);
        expect(results).toHaveLength(PROCESSES * CALLS);
        expect(results.filter((r) => 'error' in r)).toEqual([]);
        const ok = results as Array<{ subject: string; id: string; created: boolean }>;
        expect(ok.filter((r) => r.created)).toHaveLength(IDENTITIES);
        expect(new Set(ok.filter((r) => r.created).map((r) => r.subject)).size).toBe(IDENTITIES);

        const rows = await db.pool.query<{ id: string; subject: string }>(
          `SELECT id, subject FROM "${db.schema}".users WHERE issuer = $1`,
          [issuer],
        );
        expect(rows.rows).toHaveLength(IDENTITIES);
        const idOf = new Map(rows.rows.map((r) => [r.subject, r.id]));
        // Every caller, in every process, got its identity's one row.
        for (const r of ok) expect(r.id).toBe(idOf.get(r.subject));
        // The event exists iff the row was created by that statement: exactly one per user in outbox mode.
        const events = await db.pool.query<{ user_id: string; n: number }>(
          `SELECT user_id, count(*)::int AS n FROM "${db.schema}".outbox
         WHERE user_id = ANY($1) AND type = 'user.provisioned' GROUP BY user_id`,
          [rows.rows.map((r) => r.id)],
        );
        expect(events.rows.map((e) => e.n)).toEqual(outbox === '1' ? Array(IDENTITIES).fill(1) : []);
      },
    );
  },
);
