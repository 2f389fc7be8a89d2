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
const CALLS = 40;
const IDENTITIES = 10;

type Result =
  | { kind: 'scim' | 'login'; person: number; id: string; created: boolean }
  | { kind: 'scim' | 'login'; person: number; error: string; attribute?: string };

describe.skipIf(DATABASE_URL === undefined)(
  `SCIM create × first login race across processes (skipped under PGlite: ${PGLITE_SKIP_REASON})`,
  () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase('scimrace');
    });
    afterAll(async () => {
      await db?.close();
    });

    it(`${PROCESSES} processes × ${CALLS} parallel SCIM creates and logins of ${IDENTITIES} people: one row, one created, one event each`, async () => {
      const issuer = `https://scim-race-${randomBytes(4).toString('hex')}.test`;
      const children = Array.from({ length: PROCESSES }, (_, p) =>
        runTs('./scim-race-child.ts', [], {
          DATABASE_URL: db.url,
          RACE_SCHEMA: db.schema,
          RACE_ISSUER: issuer,
          RACE_CALLS: String(CALLS),
          RACE_IDENTITIES: String(IDENTITIES),
          RACE_PROCESS: String(p),
        }),
      );
      await Promise.all(children.map((child) => child.line((l) => l === 'ready')));
      for (const child of children) child.send('go');
      const outputs = await Promise.all(children.map((child) => child.line((l) => l.startsWith('['))));
      const exits = await Promise.all(children.map((child) => child.exited));
      expect(exits.map((e) => e.code)).toEqual(Array(PROCESSES).fill(0));

      const results = outputs.flatMap((line) => JSON.parse(line) as Result[]);
      expect(results).toHaveLength(PROCESSES * CALLS);
      // A login never fails; a SCIM create that lost is a 409 on its externalId (the person is there).
      const errors = results.filter((r) => 'error' in r);
      expect(errors.filter((r) => r.kind === 'login')).toEqual([]);
      for (const r of errors) expect(r).toMatchObject({ error: 'scim_conflict', attribute: 'externalId' });

      const q = `"${db.schema}"`;
      const rows = await db.pool.query<{
        id: string;
        subject: string | null;
        external_id: string;
        scim: number;
      }>(
        `SELECT u.id, u.subject, u.external_id,
                (SELECT count(*)::int FROM ${q}.scim_users su WHERE su.user_id = u.id AND NOT su.hidden) AS scim
         FROM ${q}.users u WHERE u.issuer = $1`,
        [issuer],
      );
      expect(rows.rows).toHaveLength(IDENTITIES);
      const byExternalId = new Map(rows.rows.map((r) => [r.external_id, r]));
      for (let person = 0; person < IDENTITIES; person++) {
        const row = byExternalId.get(`oid-${person}`);
        // Every login bound (or created) the row, every SCIM create wrote (or adopted) it.
        expect(row).toMatchObject({ subject: `sub-${person}`, scim: 1 });
        const mine = results.filter(
          (r): r is Extract<Result, { id: string }> => r.person === person && 'id' in r,
        );
        expect(mine.filter((r) => r.created)).toHaveLength(1);
        for (const r of mine) expect(r.id).toBe(row?.id);
      }
      const events = await db.pool.query<{ user_id: string }>(
        `SELECT user_id FROM ${q}.outbox WHERE user_id = ANY($1::text[])`,
        [rows.rows.map((r) => r.id)],
      );
      expect(events.rows).toHaveLength(IDENTITIES);
      expect(new Set(events.rows.map((e) => e.user_id)).size).toBe(IDENTITIES);
    });
  },
);
