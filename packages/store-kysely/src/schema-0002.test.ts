import { randomBytes } from 'node:crypto';
import { ScimConflictError } from '@jit-provision/core';
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

const names = () => ({
  issuer: `https://x-${randomBytes(3).toString('hex')}.test`,
  tag: randomBytes(4).toString('hex'),
});

for (const dialect of ENGINES) {
  const absent = await engineAbsence(dialect);
  describe.skipIf(absent !== undefined)(
    `migration 0002 on ${ENGINE_LABEL[dialect]}${absent ? ` (skipped: ${absent})` : ''}`,
    () => {
      let engine: TestEngine;
      let store: KyselyStore;
      let oldId: string;
      beforeAll(async () => {
        engine = await createTestEngine(dialect, 'up2');
        // A database at 0001 with a user in it, as an app that installed the previous release has.
        const t = tablesOf(PREFIX);
        const migrator = new Migrator({
          db: engine.db,
          provider: { getMigrations: async () => migrationsFor(dialect, PREFIX) },
          migrationTableName: t.migrations,
          migrationLockTableName: t.migrationLock,
        });
        const first = await migrator.migrateTo('0001_users_reservations_invitations_outbox_changes');
        expect(first.error).toBeUndefined();
        oldId = `old-${randomBytes(4).toString('hex')}`;
        await sql`INSERT INTO ${sql.table(t.users)} (id, issuer, subject, username, role, role_source)
                  VALUES (${oldId}, 'https://old.test', 'old-sub', ${`oidc:old:${oldId}`}, 'admin', 'local')`.execute(
          engine.db,
        );
        expect(await migrate(engine.db)).toEqual(['0002_logout_external_id', '0003_scim']);
        store = createKyselyStore({ db: engine.db, changes: { pollMs: 20 } });
      });
      afterAll(async () => {
        await store?.close();
        await engine?.close();
      });

      it('keeps the rows it found (externalId null) and the change log still hears hand-written SQL', async () => {
        const old = await store.lookup({ issuer: 'https://old.test', subject: 'old-sub' });
        expect(old).toMatchObject({ id: oldId, role: 'admin', roleSource: 'local', externalId: null });
        expect(await store.check()).toMatchObject({ ok: true });
        const heard: string[] = [];
        const stop = await store.changes?.subscribe((c) => heard.push(c.userId));
        try {
          // role_source 'scim' passes the CHECK (SQLite, Postgres); a new externalId is a change caches hear.
          await sql`UPDATE jit_provision_users SET role_source = 'scim', external_id = 'e-old' WHERE id = ${oldId}`.execute(
            engine.db,
          );
          await eventually(() => heard.includes(oldId));
          expect(await store.getUser(oldId)).toMatchObject({ roleSource: 'scim', externalId: 'e-old' });
        } finally {
          await stop?.();
        }
      });

      it('writes externalId on create, unique per issuer (another issuer may reuse it)', async () => {
        const { issuer, tag } = names();
        const base = { issuer, role: 'user', externalId: `ext-${tag}` };
        const { user, created } = await store.upsert({ ...base, subject: 'a', username: `oidc:a:${tag}` });
        expect(created).toBe(true);
        expect(user.externalId).toBe(`ext-${tag}`);
        expect((await store.lookup({ issuer, subject: 'a' }))?.externalId).toBe(`ext-${tag}`);
        const taken = await store
          .upsert({ ...base, subject: 'b', username: `oidc:b:${tag}` })
          .catch((error: unknown) => error);
        expect(taken).toBeInstanceOf(ScimConflictError);
        expect((taken as ScimConflictError).code).toBe('scim_conflict');
        expect((taken as ScimConflictError).attribute).toBe('externalId');
        const other = await store.upsert({
          ...base,
          issuer: `${issuer}/other`,
          subject: 'b',
          username: `oidc:o:${tag}`,
        });
        expect(other.created).toBe(true);
        // Case matters: `EXT-…` is another externalId (binary collations on MySQL).
        const upper = await store.upsert({
          ...base,
          externalId: `EXT-${tag}`,
          subject: 'c',
          username: `oidc:c:${tag}`,
        });
        expect(upper.user.externalId).toBe(`EXT-${tag}`);
      });
    },
  );
}
