import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import pg from 'pg';

/** Postgres for every database benchmark; each run gets its own schema, dropped afterwards. */
export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const AUDIENCE = 'bench-api';

export interface Database {
  pool: pg.Pool;
  schema: string;
  /** Qualified users table of the Postgres store. */
  table: string;
  /** Queries sent by any pg client in this process since the last reset (all pools), the change feed's session excepted. */
  queries(): number;
  resetQueries(): void;
  close(): Promise<void>;
}

// Counting at the client covers pool.query and checked-out clients (transactions) alike. The store's change-feed
// sessions (the client that ran LISTEN, and the one sending its heartbeat NOTIFY) are left out: the heartbeat
// runs on a timer, whatever the requests do.
let queryCount = 0;
const feedClients = new WeakSet<pg.Client>();
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === 'string' ? first : (first as { text?: unknown } | undefined)?.text;
  if (typeof text === 'string' && /^\s*(?:LISTEN\b|SELECT pg_notify\()/i.test(text)) feedClients.add(this);
  if (!feedClients.has(this)) queryCount++;
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof originalQuery;

/** A fresh schema with the store's tables, and a pool on it. */
export async function openDatabase(max = 10): Promise<Database> {
  const { migrate } = await import('@jit-provision/store-postgres');
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max });
  await migrate(pool, { schema });
  return {
    pool,
    schema,
    table: `"${schema}".users`,
    queries: () => queryCount,
    resetQueries: () => {
      queryCount = 0;
    },
    async close() {
      await pool.query(`drop schema if exists "${schema}" cascade`);
      await pool.end();
    },
  };
}

/** A local RS256 issuer (the algorithm of the measurements) with its JWKS on loopback. */
export function openIssuer(): Promise<DevIssuer> {
  return createDevIssuer({ alg: 'RS256' });
}

/** `count` users' tokens: subject `user-<i>`, email matching what is pre-provisioned. */
export function mintTokens(idp: DevIssuer, count: number, prefix = 'user'): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      idp.mint(
        { sub: `${prefix}-${i}`, email: `${prefix}-${i}@example.com` },
        { audience: AUDIENCE, expiresIn: 3600 },
      ),
    ),
  );
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Let the GC and the event loop settle between measurements. */
export async function settle(): Promise<void> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
}
