import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tablesOf } from './dialect';
import { createKyselyStore, type KyselyStore, migrate } from './index';
import { migrationsFor } from './migrate';
import {
  createTestEngine,
  ENGINE_LABEL,
  ENGINES,
  engineAbsence,
  type TestEngine,
} from './test-support/engines';

const PREFIX = 'jit_provision_';

async function eventually(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
}

for (const dialect of ENGINES) {
  const absent = await engineAbsence(dialect);
  describe.skipIf(absent !== undefined)(
    `migration 0003 on ${ENGINE_LABEL[dialect]}${absent ? ` (skipped: ${absent})` : ''}`,
    () => {
      let engine: TestEngine;
      let store: KyselyStore;
      let oldId: string;
      beforeAll(async () => {
        engine = await createTestEngine(dialect, 'up3');
        // A database at 0002 with a user in it, as an app that installed the previous release has.
        const t = tablesOf(PREFIX);
        const migrator = new Migrator({
          db: engine.db,
          provider: { getMigrations: async () => migrationsFor(dialect, PREFIX) },
          migrationTableName: t.migrations,
          migrationLockTableName: t.migrationLock,
        });
        expect((await migrator.migrateTo('0002_logout_external_id')).error).toBeUndefined();
        oldId = `old-${randomBytes(4).toString('hex')}`;
        await sql`INSERT INTO ${sql.table(t.users)} (id, issuer, subject, username, role, role_source, external_id)
                  VALUES (${oldId}, 'https://old.test', 'old-sub', ${`oidc:old:${oldId}`}, 'admin', 'local', 'e-old')`.execute(
          engine.db,
        );
        expect(await migrate(engine.db)).toEqual(['0003_scim']);
        store = createKyselyStore({ db: engine.db, changes: { pollMs: 20 } });
      });
      afterAll(async () => {
        await store?.close();
        await engine?.close();
      });

      it('keeps the rows it found; unbound rows (NULL subject) do not collide and reach the change log', async () => {
        const old = await store.lookup({ issuer: 'https://old.test', subject: 'old-sub' });
        expect(old).toMatchObject({ id: oldId, role: 'admin', externalId: 'e-old' });
        expect(await store.check()).toMatchObject({ ok: true });
        const issuer = `https://x-${randomBytes(3).toString('hex')}.test`;
        const input = (n: number) => ({
          issuer,
          subject: null,
          userName: `u${n}@example.com`,
          externalId: `ext-${n}`,
          attributes: {},
          email: null,
          name: null,
          username: `scim:${issuer}:${n}`,
          role: 'user',
        });
        // Two unbound rows of one issuer: the identity key ignores them.
        const a = await store.scim.createUser(input(1));
        const b = await store.scim.createUser(input(2));
        expect([a.record.user.subject, b.record.user.subject]).toEqual(['', '']);
        const heard: string[] = [];
        const stop = await store.changes?.subscribe((c) => heard.push(c.userId));
        try {
          await sql`UPDATE jit_provision_users SET email = 'x@example.com' WHERE id = ${a.record.user.id}`.execute(
            engine.db,
          );
          await eventually(() => heard.includes(a.record.user.id));
        } finally {
          await stop?.();
        }
        // A user deleted by hand-written SQL takes its SCIM side with it.
        await sql`DELETE FROM jit_provision_users WHERE id = ${b.record.user.id}`.execute(engine.db);
        expect(await store.scim.getUser(issuer, b.record.user.id)).toBeNull();
        const left = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM jit_provision_scim_users
                     WHERE user_id = ${b.record.user.id}`.execute(engine.db);
        expect(Number(left.rows[0]?.n)).toBe(0);
      });
    },
  );
}
