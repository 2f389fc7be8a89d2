import { randomBytes } from 'node:crypto';
import type { UserChange, UserChangeStatus } from '@jit-provision/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore, type KyselyStore, migrate } from './index';
import {
  createTestEngine,
  ENGINE_LABEL,
  ENGINES,
  engineAbsence,
  openEngine,
  type TestEngine,
} from './test-support/engines';

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const issuer = () => `https://kysely-${randomBytes(3).toString('hex')}.test`;

for (const dialect of ENGINES) {
  const absent = await engineAbsence(dialect);
  describe.skipIf(absent !== undefined)(
    `store-kysely on ${ENGINE_LABEL[dialect]}${absent ? ` (skipped: ${absent})` : ''}`,
    () => {
      let engine: TestEngine;
      let store: KyselyStore;
      beforeAll(async () => {
        engine = await createTestEngine(dialect, 'store');
        // Four migrations at once, each on its own connection pool (file handle on SQLite): each migration is
        // applied by one of them, the rest find nothing to do, none fails.
        const dbs = [engine.db, ...[1, 2, 3].map(() => openEngine(engine.env, 2))];
        const applied = await Promise.all(dbs.map((db) => migrate(db)));
        await Promise.all(dbs.slice(1).map((db) => db.destroy()));
        expect(applied.flat().sort()).toEqual([
          '0001_users_reservations_invitations_outbox_changes',
          '0002_logout_external_id',
          '0003_scim',
        ]);
        store = createKyselyStore({ db: engine.db, changes: { pollMs: 50 } });
      });
      afterAll(async () => {
        await store?.close();
        await engine?.close();
      });

      it('infers its dialect from the adapter; check() reports the migration, and a missing one', async () => {
        expect(store.dialect).toBe(dialect);
        expect(await store.check()).toMatchObject({ ok: true });
        const other = createKyselyStore({ db: engine.db, tablePrefix: 'not_migrated_', changes: false });
        expect(await other.check()).toMatchObject({ ok: false });
        expect(await migrate(engine.db)).toEqual([]);
      });

      it('identities differing only in case, accents or trailing spaces are different users (binary collations)', async () => {
        const iss = issuer();
        const subjects = [
          'Alice',
          'alice',
          'ALICE',
          'Élodie',
          'Elodie',
          'élodie',
          'bob',
          'bob ',
          'straße',
          'strasse',
        ];
        const created = await Promise.all(
          subjects.map((subject) =>
            store.upsert({ issuer: iss, subject, username: `oidc:k:${subject}`, role: 'user' }),
          ),
        );
        expect(created.every((r) => r.created)).toBe(true);
        expect(new Set(created.map((r) => r.user.id)).size).toBe(subjects.length);
        for (const [i, subject] of subjects.entries()) {
          const found = await store.lookup({ issuer: iss, subject });
          expect(found?.id, subject).toBe(created[i]?.user.id);
          expect(found?.subject).toBe(subject);
        }
        expect(await store.lookup({ issuer: iss.toUpperCase(), subject: 'Alice' })).toBeNull();
        // The search is case-insensitive all the same.
        const page = await store.users.list({ query: 'ALICE', limit: 50 });
        expect(
          page.users
            .filter((u) => u.issuer === iss)
            .map((u) => u.subject)
            .sort(),
        ).toEqual(['ALICE', 'Alice', 'alice']);
      });

      it('the change feed reports a change made by hand-written SQL (a trigger writes the change log)', async () => {
        const heard: UserChange[] = [];
        const stop = await store.changes?.subscribe((c) => heard.push(c));
        const { user } = await store.upsert({
          issuer: issuer(),
          subject: 'by-hand',
          username: `oidc:k:${randomBytes(4).toString('hex')}`,
          role: 'user',
        });
        await sql`UPDATE jit_provision_users SET status = 'disabled' WHERE id = ${user.id}`.execute(
          engine.db,
        );
        await eventually(() => heard.some((c) => c.userId === user.id));
        // last_seen_at alone is not a change a cache cares about.
        const before = heard.length;
        await store.users.touchLastSeen(user.id);
        await sql`DELETE FROM jit_provision_users WHERE id = ${user.id}`.execute(engine.db);
        await eventually(() => heard.filter((c) => c.userId === user.id).length >= 2);
        expect(heard.slice(before).filter((c) => c.userId === user.id)).toHaveLength(1);
        await stop?.();
      });

      it('a failing poll reports down (user caches are bypassed), a working one up again', async () => {
        const feedStore = createKyselyStore({
          db: engine.db,
          tablePrefix: `f${randomBytes(3).toString('hex')}_`,
          changes: { pollMs: 20 },
        });
        await migrate(engine.db, { tablePrefix: feedStore.tablePrefix });
        const statuses: UserChangeStatus[] = [];
        const stop = await feedStore.changes?.subscribe(() => {}, { onStatus: (s) => statuses.push(s) });
        expect(statuses.at(-1)).toBe('up');
        const log = `${feedStore.tablePrefix}user_changes`;
        await sql`ALTER TABLE ${sql.table(log)} RENAME TO ${sql.table(`${log}_away`)}`.execute(engine.db);
        await eventually(() => statuses.at(-1) === 'down');
        // A subscriber that joins during the outage is told at once, so its cache is bypassed too.
        const late: UserChangeStatus[] = [];
        const stopLate = await feedStore.changes?.subscribe(() => {}, { onStatus: (s) => late.push(s) });
        expect(late).toEqual(['down']);
        await sql`ALTER TABLE ${sql.table(`${log}_away`)} RENAME TO ${sql.table(log)}`.execute(engine.db);
        await eventually(() => statuses.at(-1) === 'up' && late.at(-1) === 'up');
        await stopLate?.();
        await stop?.();
      });

      it('trims the change log by age', async () => {
        const { user } = await store.upsert({
          issuer: issuer(),
          subject: 'old',
          username: `oidc:k:${randomBytes(4).toString('hex')}`,
          role: 'user',
        });
        const old = dialect === 'sqlite' ? '2000-01-01T00:00:00.000Z' : '2000-01-01 00:00:00';
        await sql`INSERT INTO jit_provision_user_changes (user_id, issuer, subject, changed_at)
                VALUES (${user.id}, ${user.issuer}, ${user.subject}, ${old})`.execute(engine.db);
        const trimming = createKyselyStore({ db: engine.db, changes: { pollMs: 20, retentionMs: 60_000 } });
        const stop = await trimming.changes?.subscribe(() => {});
        const left = async () =>
          Number(
            (
              await sql<{
                n: number;
              }>`SELECT count(*) AS n FROM jit_provision_user_changes WHERE user_id = ${user.id}`.execute(
                engine.db,
              )
            ).rows[0]?.n,
          );
        await eventually(async () => (await left()) === 0);
        await stop?.();
      });
    },
  );
}
