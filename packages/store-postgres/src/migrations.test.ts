import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from './index';
import { MIGRATIONS, runMigrations } from './migrations';
import { runTs } from './test-support/child-process';
import {
  createTestDatabase,
  DATABASE_URL,
  freshSchema,
  PGLITE_SKIP_REASON,
  type TestDatabase,
} from './test-support/database';

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

  it('migration 3 upgrades existing users to active (never revoked, never seen) and CHECKs status', async () => {
    const schema = schemaFor('lifecycle');
    const q = `"${schema}"`;
    // A database as version 2 left it, holding a user and a pending event.
    await db.pool.query(`CREATE SCHEMA ${q}`);
    await db.pool.query(
      `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) {
      await db.pool.query(migration.sql(q));
      await db.pool.query(`INSERT INTO ${q}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    await db.pool.query(
      `INSERT INTO ${q}.users (id, issuer, subject, username, role) VALUES ('u1', 'https://i', 's', 'oidc:i:s', 'user')`,
    );
    await db.pool.query(`INSERT INTO ${q}.outbox (user_id, identity) VALUES ('u1', '{}'::jsonb)`);
    expect(await runMigrations(db.pool, { schema })).toEqual(allVersions.filter((v) => v > 2));
    const { rows } = await db.pool.query(
      `SELECT status, disabled_at, tokens_valid_after, last_seen_at FROM ${q}.users WHERE id = 'u1'`,
    );
    expect(rows).toEqual([
      { status: 'active', disabled_at: null, tokens_valid_after: null, last_seen_at: null },
    ]);
    const outbox = await db.pool.query(`SELECT type, actor, data FROM ${q}.outbox`);
    expect(outbox.rows).toEqual([{ type: 'user.provisioned', actor: null, data: null }]);
    await expect(db.pool.query(`UPDATE ${q}.users SET status = 'banned'`)).rejects.toMatchObject({
      code: '23514',
    });
  });

  it('migration 8 (SCIM) upgrades a schema at version 7: rows kept, subject nullable, external_id unique per issuer', async () => {
    const schema = schemaFor('scim');
    const q = `"${schema}"`;
    await db.pool.query(`CREATE SCHEMA ${q}`);
    await db.pool.query(
      `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const migration of MIGRATIONS.filter((m) => m.version <= 7)) {
      await db.pool.query(migration.sql(q));
      await db.pool.query(`INSERT INTO ${q}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    await db.pool.query(
      `INSERT INTO ${q}.users (id, issuer, subject, username, role, role_source) VALUES ('u1', 'https://i', 's', 'oidc:i:s', 'user', 'local')`,
    );
    expect(await runMigrations(db.pool, { schema })).toEqual(allVersions.filter((v) => v > 7));
    expect(await tables(schema)).toEqual(
      expect.arrayContaining(['scim_users', 'scim_groups', 'scim_members', 'users']),
    );
    const { rows } = await db.pool.query(`SELECT subject, external_id, role_source FROM ${q}.users`);
    expect(rows).toEqual([{ subject: 's', external_id: null, role_source: 'local' }]);
    // Unbound rows (NULL subject) do not meet on (issuer, subject); externalId is unique per issuer.
    const insert = (id: string, issuer: string, externalId: string) =>
      db.pool.query(
        `INSERT INTO ${q}.users (id, issuer, subject, username, role, role_source, external_id)
         VALUES ($1, $2, NULL, $1, 'user', 'scim', $3)`,
        [id, issuer, externalId],
      );
    await insert('u2', 'https://i', 'e');
    await insert('u3', 'https://i', 'f');
    await insert('u4', 'https://other', 'e');
    await expect(insert('u5', 'https://i', 'e')).rejects.toMatchObject({ code: '23505' });
    await expect(db.pool.query(`UPDATE ${q}.users SET role_source = 'idp'`)).rejects.toMatchObject({
      code: '23514',
    });
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
        runTs('../cli.ts', ['--schema', schema], { DATABASE_URL: db.url }),
      );
      const exits = await Promise.all(runs.map((run) => run.exited));
      expect(
        exits.map((e) => e.code),
        exits.map((e) => e.stderr).join('\n'),
      ).toEqual([0, 0, 0]);
      expect(await recorded(schema)).toEqual(allVersions);
      const again = runTs('../cli.ts', [`--schema=${schema}`], { DATABASE_URL: db.url });
      expect(await again.line((l) => l.includes('up to date'))).toContain(schema);
      expect((await again.exited).code).toBe(0);
    });

    /** Run the CLI; its stderr must be at most one line and carry no stack trace. */
    async function cli(args: string[], env: Record<string, string>) {
      const { code, stderr } = await runTs('../cli.ts', args, env).exited;
      const lines = stderr.trimEnd() === '' ? [] : stderr.trimEnd().split('\n');
      expect(lines.length, stderr).toBeLessThanOrEqual(1);
      expect(stderr).not.toMatch(/^\s+at /m);
      return { code, stderr };
    }

    it('a missing DATABASE_URL exits 2 and names the variable', async () => {
      const { code, stderr } = await cli([], { DATABASE_URL: '' });
      expect(code).toBe(2);
      expect(stderr).toContain('DATABASE_URL');
    });

    it('an unknown flag, a bare --schema or a stray argument is a usage error (2), and nothing is migrated', async () => {
      // Once, `--schem x` was ignored and the schema from the environment was migrated with exit 0.
      const fromEnv = schemaFor('cli_env');
      const runs = await Promise.all(
        [['--schem', 'x'], ['--schema'], ['--schema', '--help'], ['extra'], ['--schema=']].map((args) =>
          cli(args, { DATABASE_URL: db.url, JIT_PROVISION_SCHEMA: fromEnv }),
        ),
      );
      expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
      expect(await tables(fromEnv)).toEqual([]);
    }, 60_000);

    it('a URL of another kind exits 2 and says a postgres:// URL was expected', async () => {
      const { code, stderr } = await cli([], { DATABASE_URL: 'redis://user:secret@127.0.0.1:6379/0' });
      expect(code).toBe(2);
      expect(stderr).toContain('postgres://');
      expect(stderr).not.toContain('secret');
    });

    it('a server that is not Postgres (HTTP, or one answering copyData) exits 1 and says what was expected', async () => {
      const http = createHttpServer((_req, res) => res.end('hello'));
      // Answers anything with a CopyData message: pg then says "Received unexpected copyData message".
      const copyData: Server = createServer((socket) => {
        socket.on('error', () => {});
        socket.once('data', () => socket.write(Buffer.from([0x64, 0, 0, 0, 8, 0x61, 0x62, 0x63, 0x64])));
      });
      const servers = [http, copyData];
      await Promise.all(
        servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))),
      );
      try {
        const runs = await Promise.all(
          servers.map((s) =>
            cli([], {
              DATABASE_URL: `postgres://postgres@127.0.0.1:${(s.address() as AddressInfo).port}/x`,
            }),
          ),
        );
        for (const { code, stderr } of runs) {
          expect(code).toBe(1);
          expect(stderr).toContain('postgres://');
        }
      } finally {
        http.closeAllConnections();
        await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      }
    });
  },
);
