import type { Pool, PoolClient } from 'pg';

const noop = () => {};
// Module-wide, not per store: several stores (and migrations) may share one pool, and one client must not
// collect a listener per user of the pool (that was a MaxListeners warning once).
const guardedClients = new WeakSet<PoolClient>();
const guardedPools = new WeakSet<Pool>();

/**
 * Make sure no client of `pool` can crash the process with an unheard `'error'` event. Idempotent per pool.
 *
 * A backend that dies between queries (pg_terminate_backend, a failover, an idle-session timeout) makes
 * its client emit `'error'`. pg-pool listens only while the client is idle; once it hands the client out,
 * nobody does. Attaching after `await pool.connect()` is too late: pg-pool hands a released client to a
 * queued `connect()` synchronously while still parsing the socket chunk, so a FATAL that arrived in the
 * same chunk as the previous ReadyForQuery is emitted before the awaiting code runs. So the guard goes on
 * in `'acquire'`, which pg-pool emits for new and idle clients alike before handing them out, and stays
 * on for the client's life: one listener per client, whoever checks it out. The query that trips on the
 * dead connection still fails, and callers see a connection error.
 *
 * The pool also gets an `'error'` listener: an idle client whose backend dies is reported there, and pg
 * drops that client itself, so the next checkout connects anew.
 */
export function guardPool(pool: Pool): void {
  if (guardedPools.has(pool)) return;
  guardedPools.add(pool);
  pool.on('acquire', (client) => {
    if (guardedClients.has(client)) return;
    guardedClients.add(client);
    client.on('error', noop);
  });
  pool.on('error', noop);
}
