import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import type { DialectName } from '../dialect';

export const MYSQL_URL = process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';
export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

// biome-ignore lint/suspicious/noExplicitAny: tests speak to the store's tables through raw SQL.
export type Db = Kysely<any>;

/** One scratch place on an engine: a database (MariaDB), a file (SQLite) or a schema (Postgres). */
export interface TestEngine {
  dialect: DialectName;
  db: Db;
  /** What a child process needs to open the same place (see `openEngine`). */
  env: Record<string, string>;
  close(): Promise<void>;
}

const scratchName = (label: string) => `jp_${label}_${randomBytes(4).toString('hex')}`;

/** A Kysely instance on the place `env` describes (in a test, or in a child process). */
export function openEngine(env: Record<string, string | undefined>, poolSize = 5): Db {
  switch (env['ENGINE']) {
    case 'mysql':
      return new Kysely({
        dialect: new MysqlDialect({
          pool: createPool({ uri: `${env['ENGINE_URL']}/${env['ENGINE_PLACE']}`, connectionLimit: poolSize }),
        }),
      });
    case 'sqlite':
      return new Kysely({
        dialect: new SqliteDialect({
          database: async () => {
            const file = new Database(env['ENGINE_PLACE'] as string, { timeout: 10_000 });
            file.pragma('journal_mode = WAL');
            return file;
          },
        }),
      });
    case 'postgres':
      return new Kysely({
        dialect: new PostgresDialect({
          pool: new pg.Pool({
            connectionString: env['ENGINE_URL'],
            max: poolSize,
            options: `-c search_path=${env['ENGINE_PLACE']}`,
          }),
        }),
      });
    default:
      throw new Error(`unknown ENGINE ${env['ENGINE']}`);
  }
}

async function mysqlAdmin<T>(fn: (pool: ReturnType<typeof createPool>) => Promise<T>): Promise<T> {
  const pool = createPool({ uri: MYSQL_URL, connectionLimit: 1, connectTimeout: 3_000 });
  try {
    return await fn(pool);
  } finally {
    await pool.promise().end();
  }
}

/** A scratch place on `dialect`, dropped by `close()`. */
export async function createTestEngine(dialect: DialectName, label: string): Promise<TestEngine> {
  const place = scratchName(label);
  if (dialect === 'mysql') {
    await mysqlAdmin((p) => p.promise().query(`CREATE DATABASE \`${place}\``));
    const env = { ENGINE: 'mysql', ENGINE_URL: MYSQL_URL, ENGINE_PLACE: place };
    const db = openEngine(env);
    return {
      dialect,
      db,
      env,
      async close() {
        await db.destroy();
        await mysqlAdmin((p) => p.promise().query(`DROP DATABASE IF EXISTS \`${place}\``));
      },
    };
  }
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'jp-sqlite-'));
    const env = { ENGINE: 'sqlite', ENGINE_URL: '', ENGINE_PLACE: join(dir, `${place}.db`) };
    const db = openEngine(env);
    return {
      dialect,
      db,
      env,
      async close() {
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA "${place}"`);
  const env = { ENGINE: 'postgres', ENGINE_URL: DATABASE_URL, ENGINE_PLACE: place };
  const db = openEngine(env);
  return {
    dialect,
    db,
    env,
    async close() {
      await db.destroy();
      await admin.query(`DROP SCHEMA IF EXISTS "${place}" CASCADE`);
      await admin.end();
    },
  };
}

/** Why an engine's tests are skipped here, or undefined when it is reachable. In CI an absent engine fails. */
export async function engineAbsence(dialect: DialectName): Promise<string | undefined> {
  if (dialect === 'sqlite') return undefined;
  try {
    if (dialect === 'mysql') await mysqlAdmin((p) => p.promise().query('SELECT 1'));
    else {
      const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 });
      await client.connect();
      await client.end();
    }
    return undefined;
  } catch (error) {
    if (process.env['CI']) throw new Error(`${dialect} is required in CI: ${String(error)}`);
    return `${dialect === 'mysql' ? `MariaDB/MySQL at ${MYSQL_URL}` : `Postgres at ${DATABASE_URL}`} is not reachable (${String(error)})`;
  }
}

export const ENGINES: readonly DialectName[] = ['mysql', 'sqlite', 'postgres'];
export const ENGINE_LABEL: Record<DialectName, string> = {
  mysql: 'MariaDB',
  sqlite: 'SQLite',
  postgres: 'Postgres',
};
