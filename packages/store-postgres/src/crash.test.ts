import { randomBytes } from 'node:crypto';
import { createProvisioner } from '@jit-provision/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, migrate } from './index';
import { runTs } from './test-support/child-process';
import { until } from './test-support/until';

// Real processes need a real server: PGlite lives inside one process and cannot be shared or survive a kill.
const DATABASE_URL = process.env['DATABASE_URL'];
const ISSUER = 'https://crash.jit-provision.test';
const LEASE_MS = 1_500;

interface Child {
  /** Resolves with the first stdout line starting with `prefix`. */
  waitFor(prefix: string, timeoutMs?: number): Promise<string>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

describe.skipIf(DATABASE_URL === undefined)(
  'crash tests: real processes, real Postgres, SIGKILL (skipped without DATABASE_URL: PGlite cannot be shared by processes)',
  () => {
    const schema = `crash_${randomBytes(4).toString('hex')}`;
    let pool: pg.Pool;
    const children: Child[] = [];

    function start(scenario: string, subject = 'none'): Child {
      const child = runTs('./crash-child.ts', [scenario], {
        DATABASE_URL,
        CRASH_SCHEMA: schema,
        CRASH_ISSUER: ISSUER,
        CRASH_SUBJECT: subject,
        CRASH_LEASE_MS: String(LEASE_MS),
      });
      const handle: Child = {
        waitFor: (prefix, timeoutMs = 15_000) => child.line((line) => line.startsWith(prefix), timeoutMs),
        kill: (signal) => child.kill(signal),
      };
      children.push(handle);
      return handle;
    }

    const count = async (sql: string, params: unknown[] = []) =>
      Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params)).rows[0]?.n);
    const users = (subject: string) =>
      count(`"${schema}".users WHERE issuer = $1 AND subject = $2`, [ISSUER, subject]);
    const reservations = (subject: string) =>
      count(`"${schema}".reservations WHERE issuer = $1 AND subject = $2`, [ISSUER, subject]);
    const eventOf = async (userId: string) =>
      (
        await pool.query<{ id: string; status: string; attempts: number }>(
          `SELECT id, status, attempts FROM "${schema}".outbox WHERE user_id = $1`,
          [userId],
        )
      ).rows;
    const deliveries = (eventId: string) => count(`"${schema}".deliveries WHERE event_id = $1`, [eventId]);

    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
      await migrate(pool, { schema });
      await pool.query(
        `CREATE TABLE "${schema}".deliveries (event_id text NOT NULL, user_id text NOT NULL, pid integer NOT NULL)`,
      );
    });
    afterAll(async () => {
      await Promise.all(children.map((child) => child.kill('SIGKILL')));
      await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool?.end();
    });

    it('createUser mode: SIGKILL between reserve and confirm → the next login succeeds once the lease expires, one user', async () => {
      const subject = `reserved-${randomBytes(3).toString('hex')}`;
      const crashed = start('reserve-then-hang', subject);
      await crashed.waitFor('RESERVED');
      await crashed.kill('SIGKILL');
      expect(await reservations(subject)).toBe(1); // the dead process's lease is still there
      expect(await users(subject)).toBe(0);

      // The restarted app: several concurrent logins of that identity, from two provisioners (two "processes").
      let calls = 0;
      const provisioners = [0, 1].map(() =>
        createProvisioner({
          store: createPostgresStore({ pool, schema }),
          userCache: false,
          tokenCache: false,
          reservation: { leaseMs: 10_000, waitMs: LEASE_MS + 5_000 },
          createUser: async () => {
            calls += 1;
            return `app-${subject}`;
          },
        }),
      );
      // Every waiter gets an answer within waitMs (a lease outliving it would fail the call), so this settles.
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          provisioners[i % 2]?.ensureUserExists({ issuer: ISSUER, subject }),
        ),
      );
      expect(results.filter((r) => r?.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r?.user.id))).toEqual(new Set([`app-${subject}`]));
      expect(calls).toBe(1);
      expect(await users(subject)).toBe(1);
      expect(await reservations(subject)).toBe(0);
    });

    it('outbox mode: SIGKILL after the user insert, before delivery → after restart the event is delivered exactly once (two restarted processes)', async () => {
      const subject = `inserted-${randomBytes(3).toString('hex')}`;
      const crashed = start('insert-then-hang', subject);
      const userId = (await crashed.waitFor('INSERTED ')).slice('INSERTED '.length);
      await crashed.kill('SIGKILL');
      expect(await users(subject)).toBe(1);
      const [event] = await eventOf(userId);
      expect(event).toMatchObject({ status: 'pending', attempts: 0 });
      expect(await deliveries(event?.id ?? '')).toBe(0);

      // Restart: two processes, each with its own dispatcher polling the same outbox.
      const restarted = [start('dispatch'), start('dispatch')];
      await Promise.all(restarted.map((child) => child.waitFor('READY')));
      await until(async () => (await eventOf(userId))[0]?.status === 'done', 15_000);
      // SIGTERM stops each dispatcher after its drain in flight: once both exited, any duplicate delivery
      // has been recorded.
      await Promise.all(restarted.map((child) => child.kill('SIGTERM')));
      expect(await deliveries(event?.id ?? '')).toBe(1);
      expect((await eventOf(userId))[0]).toMatchObject({ status: 'done', attempts: 1 });
    });

    it('outbox mode: SIGKILL during a hook → redelivered after the lease with the same eventId', async () => {
      const subject = `hooked-${randomBytes(3).toString('hex')}`;
      const writer = createProvisioner({
        store: createPostgresStore({ pool, schema }),
        hookDelivery: 'outbox',
      });
      const { user } = await writer.ensureUserExists({ issuer: ISSUER, subject });
      const hanging = start('hook-hang');
      const firstEventId = (await hanging.waitFor('HOOK ')).slice('HOOK '.length);
      await hanging.kill('SIGKILL');
      const [event] = await eventOf(user.id);
      expect(event).toMatchObject({ id: firstEventId, status: 'pending', attempts: 1 });

      const restarted = start('dispatch');
      await restarted.waitFor('READY');
      await until(async () => (await eventOf(user.id))[0]?.status === 'done', 15_000);
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
