import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore, migrate } from './index';
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

      it(`${PROCESSES} processes × ${CALLS} parallel claims of one logout-token jti: exactly one wins`, async () => {
        const jti = randomBytes(8).toString('hex');
        const children = Array.from({ length: PROCESSES }, () =>
          runTs('./child.ts', ['jti-race'], {
            ...engine.env,
            JTI_ISSUER: 'https://bcl.test',
            JTI: jti,
            RACE_CALLS: String(CALLS),
          }),
        );
        await Promise.all(children.map((child) => child.line((l) => l === 'ready')));
        for (const child of children) child.send('go');
        const outputs = await Promise.all(children.map((child) => child.line((l) => l.startsWith('{'))));
        const exits = await Promise.all(children.map((child) => child.exited));
        expect(exits.map((e) => e.code)).toEqual(Array(PROCESSES).fill(0));
        const results = outputs.map((line) => JSON.parse(line) as { won: number; errors: string[] });
        expect(results.flatMap((r) => r.errors)).toEqual([]);
        expect(results.reduce((sum, r) => sum + r.won, 0)).toBe(1);
      });

      it(`${PROCESSES} processes × ${CALLS} parallel SCIM creates and first logins over ${IDENTITIES} people: one row each, created once`, async () => {
        const issuer = `https://scim-race-${randomBytes(4).toString('hex')}.test`;
        const children = Array.from({ length: PROCESSES }, () =>
          runTs('./child.ts', ['scim-race'], {
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

        type Result = { person: number; id: string; created: boolean } | { error: string };
        const results = outputs.flatMap((line) => JSON.parse(line) as Result[]);
        expect(results).toHaveLength(PROCESSES * CALLS);
        // A SCIM create after the one that wrote the SCIM side meets a visible SCIM user: a conflict, no row.
        expect(
          results.flatMap((r) => ('error' in r && r.error !== 'scim_conflict' ? [r.error] : [])),
        ).toEqual([]);
        const ok = results.flatMap((r) => ('error' in r ? [] : [r]));
        expect(ok.filter((r) => r.created)).toHaveLength(IDENTITIES);
        expect(new Set(ok.filter((r) => r.created).map((r) => r.person)).size).toBe(IDENTITIES);

        const rows = (
          await sql<{ id: string; subject: string | null; external_id: string }>`
            SELECT id, subject, external_id FROM jit_provision_users WHERE issuer = ${issuer}`.execute(
            engine.db,
          )
        ).rows;
        expect(rows).toHaveLength(IDENTITIES);
        // Every login bound its person's row: no row waits unbound, each holds its login's subject.
        for (const row of rows) expect(row.subject).toBe(`racer-${row.external_id.slice('ext-'.length)}`);
        const idOf = new Map(rows.map((r) => [Number(r.external_id.slice('ext-'.length)), r.id]));
        for (const r of ok) expect(r.id).toBe(idOf.get(r.person));
        const store = createKyselyStore({ db: engine.db, changes: false });
        expect((await store.scim.status(issuer)).users).toBe(IDENTITIES);
      });

      it('a session revoked here reaches the change feed of every other process', async () => {
        const watchers = [0, 1].map(() => runTs('./child.ts', ['watch'], { ...engine.env, POLL_MS: '50' }));
        try {
          await Promise.all(watchers.map((child) => child.line((l) => l === 'up')));
          const store = createKyselyStore({ db: engine.db, changes: false });
          const sid = `sid-${randomBytes(6).toString('hex')}`;
          await store.logout.revokeSid('https://bcl.test', sid, new Date(Date.now() + 60_000));
          await Promise.all(watchers.map((child) => child.line((l) => l === `sid ${sid}`)));
        } finally {
          await Promise.all(watchers.map((child) => child.kill('SIGKILL')));
        }
      });
    },
  );
}
