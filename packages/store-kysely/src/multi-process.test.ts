import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from './index';
import { runTs } from './test-support/child-process';
import {
  createTestEngine,
  ENGINE_LABEL,
  ENGINES,
  engineAbsence,
  type TestEngine,
} from './test-support/engines';

const PROCESSES = 4;
const CALLS = 50;
const IDENTITIES = 20;

for (const dialect of ENGINES) {
  const absent = await engineAbsence(dialect);
  describe.skipIf(absent !== undefined)(
    `multi-process race on ${ENGINE_LABEL[dialect]}${absent ? ` (skipped: ${absent})` : ''}`,
    () => {
      let engine: TestEngine;
      beforeAll(async () => {
        engine = await createTestEngine(dialect, 'race');
        await migrate(engine.db);
      });
      afterAll(async () => {
        await engine?.close();
      });

      it(`${PROCESSES} processes × ${CALLS} parallel first logins over ${IDENTITIES} identities: ${IDENTITIES} users, ${IDENTITIES} created`, async () => {
        const issuer = `https://race-${randomBytes(4).toString('hex')}.test`;
        const children = Array.from({ length: PROCESSES }, () =>
          runTs('./child.ts', ['race'], {
            ...engine.env,
            RACE_ISSUER: issuer,
            RACE_CALLS: String(CALLS),
            RACE_IDENTITIES: String(IDENTITIES),
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

        const rows = (
          await sql<{
            id: string;
            subject: string;
          }>`SELECT id, subject FROM jit_provision_users WHERE issuer = ${issuer}`.execute(engine.db)
        ).rows;
        expect(rows).toHaveLength(IDENTITIES);
        const idOf = new Map(rows.map((r) => [r.subject, r.id]));
        // Every caller, in every process, got its identity's one row.
        for (const r of ok) expect(r.id).toBe(idOf.get(r.subject));
      });
    },
  );
}
