import { randomBytes, randomUUID } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../src/index';
import { createTestDatabase, DATABASE_URL, PGLITE_SKIP_REASON, type TestDatabase } from './database';

const ISSUER = 'https://connection.jit-provision.test';
const key = () => ({ issuer: ISSUER, subject: `c-${randomBytes(6).toString('hex')}` });
const newUser = (k = key()) => ({ ...k, username: `oidc:cn:${k.subject}`, role: 'user' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
      const started = Date.now();
      await expect(store.lookup(key())).rejects.toMatchObject({ code: 'provisioning_unavailable' });
      await expect(store.upsert(newUser())).rejects.toMatchObject({ code: 'provisioning_unavailable' });
      expect(Date.now() - started).toBeLessThan(3_000);
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
      for (let i = 0; i < 100 && store.pool.totalCount > 0; i++) await sleep(20);
      expect(store.pool.totalCount).toBe(0);
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
      const burst = Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? store.upsert(newUser()) : store.lookup(key()))),
      );
      await sleep(5);
      await terminate(name);
      const settled = await burst;
      for (const s of settled) {
        if (s.status === 'rejected') expect(s.reason).toMatchObject({ code: 'provisioning_unavailable' });
      }
      for (let i = 0; i < 100 && store.pool.idleCount < store.pool.totalCount; i++) await sleep(20);
      const k = key();
      expect((await store.upsert(newUser(k))).created).toBe(true);
      expect(await store.lookup(k)).not.toBeNull();
    });
  },
);
