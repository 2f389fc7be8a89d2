import { randomBytes } from 'node:crypto';
import { createProvisioner, type UserChangeStatus } from '@jit-provision/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from './index';
import { MIGRATIONS, runMigrations } from './migrations';
import {
  createTestDatabase,
  DATABASE_URL,
  freshSchema,
  PGLITE_SKIP_REASON,
  type TestDatabase,
} from './test-support/database';
import { PGBOUNCER_SKIP_REASON, type PgBouncer, startPgBouncer } from './test-support/pgbouncer';
import { until } from './test-support/until';

// Behind PgBouncer in transaction mode: what needs a server session (the migration lock, LISTEN) must hold
// up or say so. The bouncer is started here, in front of DATABASE_URL.
const skip = DATABASE_URL === undefined ? PGLITE_SKIP_REASON : PGBOUNCER_SKIP_REASON;

describe.skipIf(skip !== undefined)(
  `behind PgBouncer in transaction mode${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    let db: TestDatabase;
    let bouncer: PgBouncer;
    const pools: pg.Pool[] = [];
    const dropped: string[] = [];
    const bouncedPool = (config: pg.PoolConfig = {}) => {
      const pool = new pg.Pool({ connectionString: bouncer.url, ...config });
      pool.on('error', () => {});
      pools.push(pool);
      return pool;
    };

    beforeAll(async () => {
      db = await createTestDatabase('bouncer', { migrate: false });
      bouncer = await startPgBouncer(db.url, { poolSize: 4 });
    });
    afterAll(async () => {
      await Promise.all(pools.map((p) => (p.ended ? undefined : p.end())));
      await bouncer?.stop();
      for (const schema of dropped) await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db?.close();
    });

    /** Advisory locks still held on the migration key of `schema`, by any session. */
    const heldMigrationLocks = async (schema: string) =>
      Number(
        (
          await db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_locks
           WHERE locktype = 'advisory' AND objsubid = 1
             AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
            [`jit-provision:migrate:${schema}`],
          )
        ).rows[0]?.n,
      );

    it('4 concurrent migrations of a fresh schema all succeed, apply each version once, and leak no lock', async () => {
      const schema = freshSchema('bouncer_migrate');
      dropped.push(schema);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 4 }, () => runMigrations(bouncedPool({ max: 1 }), { schema })),
      );
      const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
      expect(failures).toEqual([]);
      const applied = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
      expect(applied.sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await heldMigrationLocks(schema)).toBe(0);
      // Once, a lock leaked into a pooled session made the next migration wait for ever.
      expect(await runMigrations(bouncedPool({ max: 1 }), { schema })).toEqual([]);
      expect(await runMigrations(bouncer.url, { schema })).toEqual([]);
    });

    it('a change feed behind the bouncer hears nothing: it reports down (never up), warns once, and the cache is bypassed', async () => {
      const schema = freshSchema('bouncer_listen');
      dropped.push(schema);
      await runMigrations(db.pool, { schema });
      const warnings: string[] = [];
      const onWarning = (warning: Error & { code?: string }) => {
        if (warning.code === 'JIT_PROVISION_CHANGE_FEED_DEAF') warnings.push(warning.message);
      };
      process.on('warning', onWarning);
      // The listener connects where the pool does: through the bouncer, in transaction mode.
      const store = createPostgresStore({
        connectionString: bouncer.url,
        preparedStatements: false,
        schema,
        poolConfig: { max: 3 },
        listen: { heartbeatMs: 200, reconnect: { minMs: 20, maxMs: 100 } },
      });
      const provisioner = createProvisioner({ store, logger: { warn: () => {}, error: () => {} } });
      const statuses: UserChangeStatus[] = [];
      try {
        await store.changes?.subscribe(() => {}, { onStatus: (s) => statuses.push(s) });
        const who = { issuer: 'https://bouncer.jit-provision.test', subject: randomBytes(6).toString('hex') };
        const { user } = await provisioner.ensureUserExists(who);
        await until(() => statuses.at(-1) === 'down');
        await db.pool.query(
          `UPDATE "${schema}".users SET status = 'disabled', disabled_at = now() WHERE id = $1`,
          [user.id],
        );
        // Before, the feed stayed up on answered \`SELECT 1\`s and the cached user was served on (95 stale
        // answers in 10 s). Down, every request reads the store: the disabled user is refused at once.
        await expect(provisioner.ensureUserExists(who)).rejects.toMatchObject({ code: 'user_disabled' });
        // Reconnections later: still down, still refused, and one warning that says why.
        await until(() => warnings.length >= 1);
        await expect(provisioner.ensureUserExists(who)).rejects.toMatchObject({ code: 'user_disabled' });
        expect(statuses).not.toContain('up');
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/listen\.connectionString/);
      } finally {
        process.off('warning', onWarning);
        await provisioner.close();
        await store.close();
      }
    });
  },
);
