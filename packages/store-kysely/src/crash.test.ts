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

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
}
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
        await sql`CREATE TABLE deliveries (event_id VARCHAR(64) NOT NULL, user_id VARCHAR(255) NOT NULL, pid INTEGER NOT NULL)`.execute(
          engine.db,
        );
      });
      afterAll(async () => {
        await Promise.all(children.map((child) => child.kill('SIGKILL')));
        await engine?.close();
      });
      const start = (scenario: string, subject = 'none') => {
        const child = runTs('./outbox-child.ts', [scenario], {
          ...engine.env,
          CRASH_ISSUER: ISSUER,
          CRASH_SUBJECT: subject,
        });
        children.push(child);
        return {
          waitFor: (prefix: string) => child.line((l) => l.startsWith(prefix), 30_000),
          kill: (signal: NodeJS.Signals) => child.kill(signal),
          exited: child.exited,
        };
      };
      const eventOf = async (userId: string) =>
        (
          await sql<{ id: string; status: string; attempts: number | string }>`
            SELECT id, status, attempts FROM jit_provision_outbox WHERE user_id = ${userId}`.execute(
            engine.db,
          )
        ).rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
      const deliveries = async (eventId: string) =>
        Number(
          (
            await sql<{
              n: number | string;
            }>`SELECT count(*) AS n FROM deliveries WHERE event_id = ${eventId}`.execute(engine.db)
          ).rows[0]?.n,
        );
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

      it('outbox mode: SIGKILL after the user insert, before delivery → after restart the event is delivered exactly once (two restarted processes)', async () => {
        const subject = `inserted-${randomBytes(3).toString('hex')}`;
        const crashed = start('insert-then-hang', subject);
        const userId = (await crashed.waitFor('INSERTED ')).slice('INSERTED '.length);
        await crashed.kill('SIGKILL');
        expect(await count('jit_provision_users', subject)).toBe(1);
        const [event] = await eventOf(userId);
        expect(event).toMatchObject({ status: 'pending', attempts: 0 });
        expect(await deliveries(event?.id ?? '')).toBe(0);

        // Restart: two processes, each with its own dispatcher claiming from the same outbox.
        const restarted = [start('dispatch'), start('dispatch')];
        await Promise.all(restarted.map((child) => child.waitFor('READY')));
        await until(async () => (await eventOf(userId))[0]?.status === 'done');
        // SIGTERM stops each dispatcher after its drain in flight: once both exited, any duplicate delivery
        // has been recorded.
        await Promise.all(restarted.map((child) => child.kill('SIGTERM')));
        expect((await Promise.all(restarted.map((child) => child.exited))).map((e) => e.code)).toEqual([
          0, 0,
        ]);
        expect(await deliveries(event?.id ?? '')).toBe(1);
        expect((await eventOf(userId))[0]).toMatchObject({ status: 'done', attempts: 1 });
      });

      it('outbox mode: SIGKILL during a hook → redelivered after the lease with the same eventId', async () => {
        const subject = `hooked-${randomBytes(3).toString('hex')}`;
        const store = createKyselyStore({ db: engine.db, changes: false });
        const writer = createProvisioner({ store, hookDelivery: 'outbox', outbox: { pollMs: 600_000 } });
        const { user } = await writer.ensureUserExists({ issuer: ISSUER, subject });
        await writer.outbox?.stop();
        const hanging = start('hook-hang');
        const firstEventId = (await hanging.waitFor('HOOK ')).slice('HOOK '.length);
        await hanging.kill('SIGKILL');
        const [event] = await eventOf(user.id);
        expect(event).toMatchObject({ id: firstEventId, status: 'pending', attempts: 1 });

        const restarted = start('dispatch');
        await restarted.waitFor('READY');
        await until(async () => (await eventOf(user.id))[0]?.status === 'done');
        const [done] = await eventOf(user.id);
        expect(done?.id).toBe(firstEventId);
        // 2 unless a loaded machine let the hanging hook time out (and be retried) before the kill landed.
        expect(done?.attempts).toBeGreaterThanOrEqual(2);
        // The receiver saw the same idempotency key both times; the completed delivery happened once.
        expect(await deliveries(firstEventId)).toBe(1);
        await restarted.kill('SIGTERM');
      });
    },
  );
}
