import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { migrate } from '../index';

/**
 * A database for one test file: the real server at DATABASE_URL when set (CI), else an in-process PGlite
 * behind a loopback socket. Either way the tables live in a fresh schema, dropped by `close()`.
 */
export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  /** False under PGlite: its socket server serves one connection at a time (others queue). */
  multiConnection: boolean;
  /** Connection string of the server (without the schema). */
  url: string;
  schema: string;
  /** The file's shared pool (max 1 under PGlite, so nothing queues behind an idle connection). */
  pool: pg.Pool;
  /** Another pool on the same server; under PGlite this is `pool` itself. */
  newPool(config?: pg.PoolConfig): pg.Pool;
  close(): Promise<void>;
}

export const DATABASE_URL = process.env['DATABASE_URL'] || undefined;
export const PGLITE_SKIP_REASON =
  'PGlite serves one connection at a time: several pools or processes would queue behind each other';

export function freshSchema(label: string): string {
  return `jitp_test_${label}_${randomBytes(5).toString('hex')}`;
}

export async function createTestDatabase(
  label: string,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const schema = freshSchema(label);
  if (DATABASE_URL !== undefined) {
    const url = DATABASE_URL;
    const pools: pg.Pool[] = [];
    const newPool = (config: pg.PoolConfig = {}) => {
      const created = new pg.Pool({ connectionString: url, max: 10, ...config });
      created.on('error', () => {});
      pools.push(created);
      return created;
    };
    const pool = newPool();
    if (options.migrate !== false) await migrate(pool, { schema });
    return {
      kind: 'postgres',
      multiConnection: true,
      url,
      schema,
      pool,
      newPool,
      async close() {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await Promise.all(pools.map((p) => (p.ended ? undefined : p.end())));
      },
    };
  }

  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  // Idle connections close quickly: another pool (e.g. migrate by URL) queues until this one lets go.
  const pool = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 100 });
  pool.on('error', () => {});
  // PGlite is one backend for every socket, so prepared statements outlive a connection; a real server
  // starts each connection clean, and the store relies on that.
  pool.on('connect', (client) => {
    client.query('DEALLOCATE ALL').catch(() => {});
  });
  if (options.migrate !== false) await migrate(pool, { schema });
  return {
    kind: 'pglite',
    multiConnection: false,
    url,
    schema,
    pool,
    newPool: () => pool,
    async close() {
      if (!pool.ended) await pool.end();
      await server.stop();
      await db.close();
    },
  };
}
