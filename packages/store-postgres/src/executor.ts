import type { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { isConnectionError } from './pg-errors';
import { guardPool } from './pool-guard';

/** How the store talks to the pool: one place for checkout, release of broken clients, retry, transactions. */
export interface Executor {
  /**
   * Run one statement and return its rows. `retry: true` (idempotent reads only) repeats it when the
   * connection failed: on another pooled client while the failures come from stale pooled clients (say,
   * every backend was just terminated), plus once more on a new connection.
   */
  rows<R extends QueryResultRow>(config: QueryConfig, options?: { retry?: boolean }): Promise<R[]>;
  /** Run `fn` inside BEGIN/COMMIT on one client; ROLLBACK on any error. */
  transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
}

// Per pool, set up once however many stores share it: clients that went back to the pool at least once
// (a connection error on one of them means it went stale while idle).
const releasedByPool = new WeakMap<Pool, WeakSet<PoolClient>>();

function releasedClients(pool: Pool): WeakSet<PoolClient> {
  let released = releasedByPool.get(pool);
  if (released === undefined) {
    const set = new WeakSet<PoolClient>();
    pool.on('release', (err, client) => {
      if (!err) set.add(client);
    });
    releasedByPool.set(pool, set);
    released = set;
  }
  return released;
}

export function createExecutor(pool: Pool): Executor {
  guardPool(pool);
  const used = releasedClients(pool);

  async function once<R extends QueryResultRow>(
    config: QueryConfig,
  ): Promise<{ rows: R[] } | { error: unknown; stale: boolean }> {
    const client = await pool.connect();
    const stale = used.has(client);
    try {
      const result = await client.query<R>(config);
      client.release();
      return { rows: result.rows };
    } catch (error) {
      // A broken client is destroyed instead of going back to the pool for the next caller to trip on.
      const broken = isConnectionError(error);
      client.release(broken);
      return { error, stale };
    }
  }

  return {
    async rows<R extends QueryResultRow>(config: QueryConfig, options: { retry?: boolean } = {}) {
      if (options.retry === true) {
        // The common case goes through pool.query, the pool's cheapest path (no explicit checkout); only a
        // connection failure falls through to the checkout loop below, which tells stale clients from an outage.
        try {
          return (await pool.query<R>(config)).rows;
        } catch (error) {
          if (!isConnectionError(error)) throw error;
        }
      }
      const staleBudget = (pool.options.max ?? 10) + 1;
      let freshRetried = false;
      for (let attempt = 0; ; attempt++) {
        let outcome: Awaited<ReturnType<typeof once<R>>>;
        try {
          outcome = await once<R>(config);
        } catch (connectError) {
          outcome = { error: connectError, stale: false };
        }
        if ('rows' in outcome) return outcome.rows;
        const { error, stale } = outcome;
        if (options.retry !== true || !isConnectionError(error)) throw error;
        if (stale && attempt < staleBudget) continue;
        if (freshRetried) throw error;
        freshRetried = true;
      }
    },

    async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        broken = isConnectionError(error);
        if (!broken) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
  };
}
