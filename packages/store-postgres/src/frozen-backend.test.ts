import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from './index';
import {
  createTestDatabase,
  DATABASE_URL,
  PGLITE_SKIP_REASON,
  type TestDatabase,
} from './test-support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('frozen');
});
afterAll(async () => {
  await db?.close();
});

const ISSUER = 'https://frozen.jit-provision.test';
const newUser = () => {
  const subject = `f-${randomBytes(6).toString('hex')}`;
  return { issuer: ISSUER, subject, username: `oidc:fz:${subject}`, role: 'user' };
};

// SIGSTOP of a backend needs a local server and the right to signal it (the tests run as its owner or root).
const canSignal = DATABASE_URL !== undefined && process.getuid?.() === 0;

describe.skipIf(!canSignal)(
  `a frozen backend (skipped unless DATABASE_URL is a local server and the tests run as root; ${PGLITE_SKIP_REASON})`,
  () => {
    it('a client whose query timed out is destroyed: one write fails (unreachable), the next ones succeed', async () => {
      const pool = db.newPool({ max: 2, query_timeout: 400 });
      const store = createPostgresStore({ pool, schema: db.schema, listen: false });
      // Open both connections and learn their backends.
      const clients = await Promise.all([pool.connect(), pool.connect()]);
      const pids: number[] = [];
      for (const c of clients) {
        const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        pids.push(rows[0]?.pid ?? 0);
      }
      for (const c of clients) c.release();
      // pg-pool hands out the most recently released client first: freeze that one.
      const frozen = pids[1] ?? 0;
      expect(frozen).toBeGreaterThan(0);
      process.kill(frozen, 'SIGSTOP');
      try {
        const outcomes: Array<string> = [];
        for (let round = 0; round < 8; round++) {
          outcomes.push(
            await store.upsert(newUser()).then(
              () => 'ok',
              (error: { code?: string; reason?: string }) => `${error.code}:${error.reason}`,
            ),
          );
        }
        // Only the write that drew the frozen client fails (once pooled again, it failed all 8), and it says
        // the database is unreachable.
        expect(outcomes, outcomes.join(',')).toEqual([
          'provisioning_unavailable:unreachable',
          ...Array.from({ length: 7 }, () => 'ok'),
        ]);
      } finally {
        process.kill(frozen, 'SIGCONT');
        await db.pool.query('SELECT pg_terminate_backend($1)', [frozen]).catch(() => {});
        await store.close();
      }
    });
  },
);
