// The engines of the store-kysely benchmark: one scratch place per engine (a MariaDB database, a SQLite
// file in WAL mode, a Postgres schema) and a Kysely instance on it, for the bench and its child processes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';

export type Engine = 'mysql' | 'sqlite' | 'postgres';
export const MYSQL_URL = process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';
export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

// biome-ignore lint/suspicious/noExplicitAny: raw SQL against the store's tables.
export type Db = Kysely<any>;

export function open(engine: Engine, place: string, pool = 10): Db {
  if (engine === 'mysql')
    return new Kysely({
      dialect: new MysqlDialect({
        pool: createPool({ uri: `${MYSQL_URL}/${place}`, connectionLimit: pool }),
      }),
    });
  if (engine === 'sqlite')
    return new Kysely({
      dialect: new SqliteDialect({
        database: async () => {
          const file = new Database(place, { timeout: 10_000 });
          file.pragma('journal_mode = WAL');
          return file;
        },
      }),
    });
  return new Kysely({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: DATABASE_URL, max: pool, options: `-c search_path=${place}` }),
    }),
  });
}

/** A scratch place and a function that drops it. */
export async function scratch(engine: Engine): Promise<{ place: string; drop: () => Promise<void> }> {
  const name = `jp_bench_${randomBytes(4).toString('hex')}`;
  if (engine === 'mysql') {
    const admin = createPool({ uri: MYSQL_URL, connectionLimit: 1 }).promise();
    await admin.query(`CREATE DATABASE \`${name}\``);
    return {
      place: name,
      drop: async () => {
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await admin.end();
      },
    };
  }
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'jp-bench-'));
    return { place: join(dir, 'bench.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA "${name}"`);
  return {
    place: name,
    drop: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await admin.end();
    },
  };
}
