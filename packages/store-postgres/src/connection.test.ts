import { randomBytes, randomUUID } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from './index';
import { MIGRATIONS, runMigrations } from './migrations';
import {
  createTestDatabase,
  DATABASE_URL,
  freshSchema,
  PGLITE_SKIP_REASON,
  type TestDatabase,
} from './test-support/database';
import { createHoldingProxy, type HoldingProxy } from './test-support/holding-proxy';
import { until } from './test-support/until';

const ISSUER = 'https://connection.jit-provision.test';
const key = () => ({ issuer: ISSUER, subject: `c-${randomBytes(6).toString('hex')}` });
const newUser = (k = key()) => ({ ...k, username: `oidc:cn:${k.subject}`, role: 'user' });

/** Every store call, each expected to reject with `code`. */
async function expectEveryCall(store: PostgresStore, code: string): Promise<void> {
  const k = key();
  const calls: Array<() => Promise<unknown>> = [
    () => store.lookup(k),
    () => store.upsert(newUser(k)),
    () => store.getUser('x'),
    () => store.sync('x', { email: 'a@example.com' }),
    () => store.setRole('x', 'admin'),
    () => store.reservations.reserve(k, { leaseMs: 1_000 }),
    () => store.reservations.confirm(newUser(k), { token: 't', expiresAt: new Date() }, 'x'),
    () => store.reservations.release(k, { token: 't', expiresAt: new Date() }),
    () =>
      store.invitations.createInvitation({
        id: randomUUID(),
        tokenHash: 'h',
        email: 'a@example.com',
        role: 'user',
        invitedBy: 'x',
        expiresAt: new Date(),
      }),
    () => store.invitations.findInvitation(['h']),
    () => store.invitations.consumeInvitation('x', new Date()),
    () => store.invitations.listInvitations({ now: new Date() }),
    () => store.invitations.purgeInvitations(new Date()),
  ];
  for (const call of calls) {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, call.toString()).toMatchObject({ code, status: 503, name: 'StoreUnavailableError' });
    expect((error as { headers: Record<string, string> }).headers['Retry-After']).toBeDefined();
  }
}

describe('unreachable database', () => {
  it('a refused connection is provisioning_unavailable (503) on every method', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const store = createPostgresStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/x` });
    try {
      await expectEveryCall(store, 'provisioning_unavailable');
    } finally {
      await store.close();
    }
  });

  it('a server that accepts and never answers times out into provisioning_unavailable', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const store = createPostgresStore({
      connectionString: `postgres://postgres@127.0.0.1:${port}/x`,
      poolConfig: { connectionTimeoutMillis: 150, max: 2 },
    });
    try {
      // The server never answers: settling at all is the connection timeout at work.
      await expect(store.lookup(key())).rejects.toMatchObject({ code: 'provisioning_unavailable' });
      await expect(store.upsert(newUser())).rejects.toMatchObject({ code: 'provisioning_unavailable' });
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe.skipIf(DATABASE_URL === undefined)(
  `terminated backends (skipped under PGlite: one backend, ${PGLITE_SKIP_REASON})`,
  () => {
    let db: TestDatabase;
    let admin: pg.Client;
    beforeAll(async () => {
      db = await createTestDatabase('terminate');
      admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
    });
    afterAll(async () => {
      await admin?.end();
      await db?.close();
    });

    const appName = () => `jitp-test-${randomBytes(4).toString('hex')}`;
    const terminate = async (applicationName: string) => {
      const { rows } = await admin.query<{ ok: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      return rows.length;
    };
    const storeWith = (applicationName: string) =>
      createPostgresStore({
        pool: db.newPool({ max: 5, application_name: applicationName }),
        schema: db.schema,
      });
    const warm = (store: PostgresStore) => Promise.all(Array.from({ length: 5 }, () => store.lookup(key())));

    it('right after pg_terminate_backend of every pooled connection, the next read succeeds (retried once)', async () => {
      const name = appName();
      const store = storeWith(name);
      const { user } = await store.upsert(newUser());
      await warm(store);
      expect(await terminate(name)).toBeGreaterThan(0);
      expect((await store.lookup(user))?.id).toBe(user.id);
      expect((await store.getUser(user.id))?.id).toBe(user.id);
    });

    it('once the pool dropped the dead clients, writes succeed too; the process survived their error events', async () => {
      const name = appName();
      const store = storeWith(name);
      await warm(store);
      expect(store.pool.totalCount).toBeGreaterThan(0);
      await terminate(name);
      await until(() => store.pool.totalCount === 0);
      const k = key();
      expect((await store.upsert(newUser(k))).created).toBe(true);
      await expect(store.reservations.reserve(key(), { leaseMs: 1_000 })).resolves.toMatchObject({
        token: expect.any(String),
      });
    });

    it('terminating backends in the middle of a burst: every failure is provisioning_unavailable, then calls succeed', async () => {
      const name = appName();
      const store = storeWith(name);
      await warm(store);
      let answered = 0;
      const burst = Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 === 0 ? store.upsert(newUser()) : store.lookup(key())).finally(() => {
            answered++;
          }),
        ),
      );
      // Terminate once the burst is under way: some calls answered, most still queued or in flight.
      await until(() => answered >= 10);
      await terminate(name);
      const settled = await burst;
      for (const s of settled) {
        if (s.status === 'rejected') expect(s.reason).toMatchObject({ code: 'provisioning_unavailable' });
      }
      await until(() => store.pool.idleCount === store.pool.totalCount);
      const k = key();
      expect((await store.upsert(newUser(k))).created).toBe(true);
      expect(await store.lookup(k)).not.toBeNull();
    });

    describe('a FATAL in the same chunk as the answer before it (held back by a TCP proxy)', () => {
      let proxy: HoldingProxy;
      beforeAll(async () => {
        proxy = await createHoldingProxy(db.url);
      });
      afterAll(async () => {
        await proxy?.close();
      });

      /**
       * Hold back the answer to what `start` sends, terminate that backend, then deliver the answer and
       * the FATAL in one write: pg parses both in one chunk, so whatever the answer sets off synchronously
       * (pg-pool handing the client to a queued checkout) runs before the FATAL's 'error' event.
       */
      async function answerThenFatal<T>(name: string, start: () => Promise<T>, queued?: () => void) {
        const held = proxy.hold();
        const started = start().then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        await held.answered;
        queued?.();
        expect(await terminate(name)).toBe(1);
        await held.delivered;
        // The answer's ReadyForQuery, then the FATAL (57P01), and nothing after it.
        expect(held.types.slice(-2)).toEqual(['Z', 'E']);
        return started;
      }

      it('an upsert waiting in the pool queue gets the dying client: 503 or success, never an uncaught error', async () => {
        const name = appName();
        const pool = db.newPool({ connectionString: proxy.url, max: 1, application_name: name });
        const store = createPostgresStore({ pool, schema: db.schema });
        const k = key();
        // The pool's only client is created by a read (pool.query): no checkout of the store's ever saw it.
        expect(await store.lookup(k)).toBeNull();
        let upsert: Promise<{ created: boolean } | { error: unknown }> | undefined;
        const lookup = await answerThenFatal(
          name,
          () => store.lookup(k),
          () => {
            upsert = store.upsert(newUser()).catch((error: unknown) => ({ error }));
            // Queued behind the held lookup, so the lookup's release hands it the client synchronously.
            expect(pool.waitingCount).toBe(1);
          },
        );
        expect(lookup).toEqual({ value: null });
        const outcome = await upsert;
        if (outcome !== undefined && 'error' in outcome) {
          expect(outcome.error).toMatchObject({ code: 'provisioning_unavailable', status: 503 });
        } else {
          expect(outcome).toMatchObject({ created: true });
        }
        // The dead client is gone; the next calls connect anew.
        expect((await store.upsert(newUser(k))).created).toBe(true);
        expect((await store.lookup(k))?.subject).toBe(k.subject);
      });

      it('the client runMigrations holds between statements: StoreUnavailableError, never an uncaught error', async () => {
        const name = appName();
        const pool = db.newPool({ connectionString: proxy.url, max: 1, application_name: name });
        const schema = freshSchema('fatal_migrate');
        // Connected and idle, so the held bytes start with the answer to the migration's first statement.
        await pool.query('SELECT 1');
        const outcome = await answerThenFatal(name, () => runMigrations(pool, { schema }));
        expect(outcome).toMatchObject({
          error: { code: 'provisioning_unavailable', name: 'StoreUnavailableError' },
        });
        // Nothing was applied, and a second run on a new connection applies everything.
        expect(await runMigrations(pool, { schema })).toEqual(MIGRATIONS.map((m) => m.version));
        await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      });

      it('one error guard per client however many stores and migrations share the pool', async () => {
        const pool = db.newPool({ max: 3 });
        const clients = new Set<pg.PoolClient>();
        pool.on('acquire', (client) => clients.add(client));
        const stores = Array.from({ length: 3 }, () => createPostgresStore({ pool, schema: db.schema }));
        await runMigrations(pool, { schema: db.schema });
        await Promise.all(
          Array.from({ length: 60 }, (_, i) => {
            const store = stores[i % stores.length] as PostgresStore;
            return i % 2 === 0 ? store.upsert(newUser()) : store.lookup(key());
          }),
        );
        expect(clients.size).toBeGreaterThan(0);
        // Idle: pg-pool's own idle listener plus exactly one guard.
        for (const client of clients) expect(client.listenerCount('error')).toBe(2);
        expect(pool.listenerCount('acquire')).toBe(2);
      });
    });
  },
);
