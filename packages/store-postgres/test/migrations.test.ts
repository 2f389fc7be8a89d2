import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/index';
import { MIGRATIONS, runMigrations } from '../src/migrations';
import { runTs } from './child-process';
import {
  createTestDatabase,
  DATABASE_URL,
  freshSchema,
  PGLITE_SKIP_REASON,
  type TestDatabase,
} from './database';

let db: TestDatabase;
const dropped: string[] = [];
beforeAll(async () => {
  db = await createTestDatabase('migrations', { migrate: false });
});
afterAll(async () => {
  for (const schema of dropped) await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db?.close();
});

const schemaFor = (label: string) => {
  const schema = freshSchema(label);
  dropped.push(schema);
  return schema;
};
const recorded = async (schema: string) =>
  (
    await db.pool.query<{ version: number }>(`SELECT version FROM "${schema}".migrations ORDER BY version`)
  ).rows.map((r) => r.version);
const tables = async (schema: string) =>
  (
    await db.pool.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    )
  ).rows.map((r) => r.table_name);
const allVersions = MIGRATIONS.map((m) => m.version);

describe('migrate', () => {
  it('creates the schema and tables, records each version, and a second run applies nothing', async () => {
    const schema = schemaFor('twice');
    expect(await runMigrations(db.pool, { schema })).toEqual(allVersions);
    expect(await tables(schema)).toEqual(
      expect.arrayContaining(['invitations', 'migrations', 'reservations', 'users']),
    );
    expect(await runMigrations(db.pool, { schema })).toEqual([]);
    await migrate(db.pool, { schema });
    expect(await recorded(schema)).toEqual(allVersions);
  });

  it('versions are unique and ascending, so appending one is all a new migration takes', () => {
    expect(allVersions).toEqual([...allVersions].sort((a, b) => a - b));
    expect(new Set(allVersions).size).toBe(allVersions.length);
  });

  it('3 concurrent runs (separate pools on a real server) all succeed and apply each version once', async () => {
    const schema = schemaFor('concurrent');
    const pools = [db.newPool({ max: 1 }), db.newPool({ max: 1 }), db.newPool({ max: 1 })];
    const applied = await Promise.all(pools.map((pool) => runMigrations(pool, { schema })));
    expect(applied.flat().sort()).toEqual(allVersions);
    expect(await recorded(schema)).toEqual(allVersions);
  });

  it('accepts a connection string and ends the pool it made', async () => {
    const schema = schemaFor('url');
    await migrate(db.url, { schema });
    expect(await recorded(schema)).toEqual(allVersions);
  });

  it('refuses a schema name that is not a plain identifier, before touching the database', async () => {
    for (const schema of ['x"; DROP SCHEMA public; --', '1abc', '', 'a'.repeat(64), 'jit-provision']) {
      await expect(migrate(db.pool, { schema })).rejects.toMatchObject({ code: 'configuration_error' });
    }
  });

  it('an unreachable server is provisioning_unavailable, not a raw driver error', async () => {
    await expect(migrate('postgres://postgres@127.0.0.1:1/none', { schema: 'x' })).rejects.toMatchObject({
      code: 'provisioning_unavailable',
    });
  });
});

describe.skipIf(DATABASE_URL === undefined)(
  `jit-provision-migrate CLI (skipped under PGlite: ${PGLITE_SKIP_REASON})`,
  () => {
    it('3 processes migrating one schema at once all exit 0; versions are recorded once', async () => {
      const schema = schemaFor('cli');
      const runs = Array.from({ length: 3 }, () =>
        runTs('../src/cli.ts', ['--schema', schema], { DATABASE_URL: db.url }),
      );
      const exits = await Promise.all(runs.map((run) => run.exited));
      expect(
        exits.map((e) => e.code),
        exits.map((e) => e.stderr).join('\n'),
      ).toEqual([0, 0, 0]);
      expect(await recorded(schema)).toEqual(allVersions);
      const again = runTs('../src/cli.ts', [`--schema=${schema}`], { DATABASE_URL: db.url });
      expect(await again.line((l) => l.includes('up to date'))).toContain(schema);
      expect((await again.exited).code).toBe(0);
    });

    it('exits 2 without DATABASE_URL', async () => {
      const run = runTs('../src/cli.ts', [], { DATABASE_URL: '' });
      expect((await run.exited).code).toBe(2);
    });
  },
);
