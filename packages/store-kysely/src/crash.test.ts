import { randomBytes } from 'node:crypto';
import { createProvisioner } from '@jit-provision/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore, migrate } from './index';
import { type RunningChild, runTs } from './test-support/child-process';
import {
  createTestEngine,
  ENGINE_LABEL,
  ENGINES,
  engineAbsence,
  type TestEngine,
} from './test-support/engines';

const ISSUER = 'https://crash.jit-provision.test';
const LEASE_MS = 1_500;

for (const dialect of ENGINES) {
  const absent = await engineAbsence(dialect);
  describe.skipIf(absent !== undefined)(
    `crash on ${ENGINE_LABEL[dialect]}: real processes, SIGKILL${absent ? ` (skipped: ${absent})` : ''}`,
    () => {
      let engine: TestEngine;
      const children: RunningChild[] = [];
      beforeAll(async () => {
        engine = await createTestEngine(dialect, 'crash');
        await migrate(engine.db);
      });
      afterAll(async () => {
        await Promise.all(children.map((child) => child.kill('SIGKILL')));
        await engine?.close();
      });
      const count = async (table: string, subject: string) =>
        Number(
          (
            await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.table(table)}
              WHERE issuer = ${ISSUER} AND subject = ${subject}`.execute(engine.db)
          ).rows[0]?.n,
        );

      it('createUser mode: SIGKILL between reserve and confirm → the next login succeeds once the lease expires, one user', async () => {
        const subject = `reserved-${randomBytes(3).toString('hex')}`;
        const crashed = runTs('./child.ts', ['reserve-then-hang'], {
          ...engine.env,
          CRASH_ISSUER: ISSUER,
          CRASH_SUBJECT: subject,
          CRASH_LEASE_MS: String(LEASE_MS),
        });
        children.push(crashed);
        await crashed.line((l) => l === 'RESERVED');
        await crashed.kill('SIGKILL');
        expect(await count('jit_provision_reservations', subject)).toBe(1); // the dead process's lease
        expect(await count('jit_provision_users', subject)).toBe(0);

        // The restarted app: concurrent logins of that identity from two provisioners.
        let calls = 0;
        const stores = [0, 1].map(() => createKyselyStore({ db: engine.db, changes: false }));
        const provisioners = stores.map((store) =>
          createProvisioner({
            store,
            userCache: false,
            tokenCache: false,
            reservation: { leaseMs: 10_000, waitMs: LEASE_MS + 5_000 },
            createUser: async () => {
              calls += 1;
              return `app-${subject}`;
            },
          }),
        );
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            provisioners[i % 2]?.ensureUserExists({ issuer: ISSUER, subject }),
          ),
        );
        expect(results.filter((r) => r?.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r?.user.id))).toEqual(new Set([`app-${subject}`]));
        expect(calls).toBe(1);
        expect(await count('jit_provision_users', subject)).toBe(1);
        expect(await count('jit_provision_reservations', subject)).toBe(0);
      });
    },
  );
}
