import { randomBytes, randomUUID } from 'node:crypto';
import type { NewUser } from '@jit-provision/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, migrate, type PostgresStore } from './index';
import { createTestDatabase, freshSchema, type TestDatabase } from './test-support/database';

let db: TestDatabase;
let store: PostgresStore;
beforeAll(async () => {
  db = await createTestDatabase('store');
  store = createPostgresStore({ pool: db.pool, schema: db.schema });
});
afterAll(async () => {
  await db?.close();
});

const ISSUER = 'https://store.jit-provision.test';
const key = (label = 'u') => ({ issuer: ISSUER, subject: `${label}-${randomBytes(6).toString('hex')}` });
const newUser = (k = key(), extra: Partial<NewUser> = {}): NewUser => ({
  ...k,
  username: `oidc:st:${k.subject}`,
  role: 'user',
  ...extra,
});
const HOUR = 3_600_000;

describe('configuration', () => {
  it('refuses a schema that is not a plain identifier', () => {
    for (const schema of ['public; DROP TABLE x', 'a b', '"q"', '9lives', 'x'.repeat(64)]) {
      expect(() => createPostgresStore({ pool: db.pool, schema })).toThrow(
        expect.objectContaining({ code: 'configuration_error' }),
      );
    }
  });

  it('refuses libpq failover syntax (several hosts, target_session_attrs) node-postgres cannot follow', async () => {
    // Each of these was accepted once and became a permanent 503: node-postgres connects to one host only.
    const failover = [
      'postgres://postgres@db1:5432,db2:5432/app',
      'postgresql://db1,db2/app',
      'postgres://postgres@127.0.0.1:5432/test?target_session_attrs=read-write',
      'postgres://postgres@127.0.0.1:5432/test?host=db1,db2',
      'host=db1,db2 dbname=app',
    ];
    const attempts: Array<() => unknown> = [
      ...failover.map((connectionString) => () => createPostgresStore({ connectionString })),
      () => createPostgresStore({ pool: db.pool, listen: { connectionString: failover[0] as string } }),
      () => createPostgresStore({ connectionString: db.url, poolConfig: { host: 'db1,db2' } }),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        const made = attempt() as PostgresStore;
        await made.close();
      } catch (caught) {
        error = caught;
      }
      expect(error, attempt.toString()).toMatchObject({ code: 'configuration_error' });
      // It says what to do instead.
      expect((error as Error).message).toMatch(/one endpoint/);
    }
    await expect(migrate(failover[0] as string)).rejects.toMatchObject({ code: 'configuration_error' });
    // One host, and libpq's default `any`, stay accepted.
    const plain = createPostgresStore({ connectionString: `${db.url}?target_session_attrs=any` });
    await plain.close();
  });

  it('two stores on two schemas share one pool (prepared statement names are per schema)', async () => {
    const otherSchema = freshSchema('other');
    await migrate(db.pool, { schema: otherSchema });
    try {
      const other = createPostgresStore({ pool: db.pool, schema: otherSchema });
      const k = key('twin');
      const a = await store.upsert(newUser(k));
      const b = await other.upsert(newUser(k));
      expect(a.created && b.created).toBe(true);
      expect(a.user.id).not.toBe(b.user.id);
      for (let i = 0; i < 5; i++) {
        expect((await store.lookup(k))?.id).toBe(a.user.id);
        expect((await other.lookup(k))?.id).toBe(b.user.id);
      }
    } finally {
      await db.pool.query(`DROP SCHEMA "${otherSchema}" CASCADE`);
    }
  });

  it('stores on schemas X and event_X share one pool: their statement names do not collide', async () => {
    // Once, `insert` on event_X and `insert_event` on X were both named jitp_insert_event_X.
    const x = freshSchema('pair');
    const eventX = `event_${x}`;
    await migrate(db.pool, { schema: x });
    await migrate(db.pool, { schema: eventX });
    const pool = db.newPool({ max: 2 });
    try {
      const stores = [x, eventX].map((schema) => createPostgresStore({ pool, schema }));
      // Plain and event-emitting inserts and confirms, interleaved over the pool's connections.
      const results = await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const target = stores[i % 2] as PostgresStore;
          const k = key('pair');
          const identity = { issuer: k.issuer, subject: k.subject };
          const input = newUser(k, Math.floor(i / 2) % 2 === 0 ? {} : { emitEvent: { identity } });
          if (Math.floor(i / 4) % 2 === 0)
            return { schema: target.schema, k, user: (await target.upsert(input)).user };
          const reservation = await target.reservations!.reserve(k, { leaseMs: 10_000 });
          return {
            schema: target.schema,
            k,
            user: await target.reservations!.confirm(input, reservation, randomUUID()),
          };
        }),
      );
      for (const { schema, k, user } of results) {
        const { rows } = await db.pool.query(`SELECT id FROM "${schema}".users WHERE subject = $1`, [
          k.subject,
        ]);
        expect(rows).toEqual([{ id: user.id }]);
      }
      const events = await db.pool.query(
        `SELECT (SELECT count(*) FROM "${x}".outbox)::int AS x, (SELECT count(*) FROM "${eventX}".outbox)::int AS event_x`,
      );
      expect(events.rows[0]).toEqual({ x: 6, event_x: 6 });
    } finally {
      await db.pool.query(`DROP SCHEMA "${x}" CASCADE; DROP SCHEMA "${eventX}" CASCADE`);
    }
  });

  it('lookup runs as a named prepared statement', async () => {
    const pool = db.newPool({ max: 1 });
    const single = createPostgresStore({ pool, schema: db.schema });
    await single.lookup(key());
    const { rows } = await pool.query<{ name: string; statement: string }>(
      'SELECT name, statement FROM pg_prepared_statements',
    );
    const lookup = rows.find((r) => r.name === `jitp:lookup:${db.schema}`);
    expect(lookup?.statement).toMatch(/WHERE issuer = \$1 AND subject = \$2/);
  });

  it('preparedStatements: false prepares nothing, for poolers whose sessions outlive a client connection', async () => {
    const otherSchema = freshSchema('unprepared');
    await migrate(db.pool, { schema: otherSchema });
    try {
      const pool = db.newPool({ max: 1 });
      const unprepared = createPostgresStore({ pool, schema: otherSchema, preparedStatements: false });
      const k = key('unprepared');
      const { user, created } = await unprepared.upsert(newUser(k, { email: 'a@example.com' }));
      expect(created).toBe(true);
      expect((await unprepared.lookup(k))?.id).toBe(user.id);
      expect((await unprepared.upsert(newUser(k, { email: 'b@example.com' }))).user.email).toBe(
        'b@example.com',
      );
      const reservation = await unprepared.reservations.reserve(key('unprepared'), { leaseMs: 1_000 });
      expect(reservation.token).toEqual(expect.any(String));
      const { rows } = await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements');
      expect(rows.filter((r) => r.name.includes(otherSchema))).toEqual([]);
    } finally {
      await db.pool.query(`DROP SCHEMA IF EXISTS "${otherSchema}" CASCADE`);
    }
  });

  it('close() ends a pool made from a connection string, and leaves a given pool alone', async () => {
    const own = createPostgresStore({ connectionString: db.url, schema: db.schema, poolConfig: { max: 1 } });
    if (db.kind === 'pglite')
      own.pool.on('connect', (client) => void client.query('DEALLOCATE ALL').catch(() => {}));
    expect(await own.lookup(key())).toBeNull();
    await own.close();
    expect(own.pool.ended).toBe(true);
    await expect(own.lookup(key())).rejects.toMatchObject({ code: 'provisioning_unavailable' });
    await createPostgresStore({ pool: db.pool, schema: db.schema }).close();
    expect(db.pool.ended).toBe(false);
  });
});

describe('users', () => {
  it('stores SQL-looking and unicode values verbatim', async () => {
    const k = { issuer: ISSUER, subject: `'); DROP TABLE users; -- ${randomUUID()}` };
    const { user } = await store.upsert(
      newUser(k, { email: "o'brien@example.com", name: 'Zoë $1 \\ "x"', tenantId: "t' OR '1'='1" }),
    );
    expect(await store.lookup(k)).toEqual(user);
    expect(user).toMatchObject({ subject: k.subject, name: 'Zoë $1 \\ "x"', tenantId: "t' OR '1'='1" });
  });

  it('a username owned by another identity is reservation_conflict, and nothing is written', async () => {
    const first = newUser(key('owner'));
    await store.upsert(first);
    const thief = key('thief');
    await expect(store.upsert(newUser(thief, { username: first.username }))).rejects.toMatchObject({
      code: 'reservation_conflict',
    });
    expect(await store.lookup(thief)).toBeNull();
  });

  it('upsert without email/name keeps the stored ones; updated_at moves only on a change', async () => {
    const k = key('keep');
    const { user } = await store.upsert(newUser(k, { email: 'a@example.com', name: 'A' }));
    const same = await store.upsert(newUser(k, { email: null, name: undefined }));
    expect(same.user).toEqual(user);
    const changed = await store.upsert(newUser(k, { email: 'b@example.com' }));
    expect(changed.user.email).toBe('b@example.com');
    expect(changed.user.name).toBe('A');
    expect(changed.user.updatedAt.getTime()).toBeGreaterThan(user.updatedAt.getTime());
    expect(changed.user.createdAt).toEqual(user.createdAt);
  });

  it('3 storms of 200 parallel upserts of one identity over 4 pools: no errors, one row, one created', async () => {
    const pools = Array.from({ length: 4 }, () => db.newPool({ max: 5 }));
    const stores = pools.map((pool) => createPostgresStore({ pool, schema: db.schema }));
    for (let round = 0; round < 3; round++) {
      const k = key(`storm${round}`);
      const settled = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          stores[i % 4]?.upsert(newUser(k, { email: `s${i}@example.com` })),
        ),
      );
      expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
      const results = settled.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
      const { rows } = await db.pool.query(
        `SELECT id FROM "${db.schema}".users WHERE issuer = $1 AND subject = $2`,
        [k.issuer, k.subject],
      );
      expect(rows).toHaveLength(1);
    }
  });

  it('sync of an unknown id is user_not_found', async () => {
    await expect(store.sync(randomUUID(), { email: 'x@example.com' })).rejects.toMatchObject({
      code: 'user_not_found',
    });
  });
});

describe('reservations', () => {
  it('a conflict carries the holder expiry, read from the database clock', async () => {
    const k = key('lease');
    const { rows } = await db.pool.query<{ now: Date }>('SELECT now() AS now');
    const dbNow = (rows[0] as { now: Date }).now.getTime();
    const held = await store.reservations.reserve(k, { leaseMs: 60_000 });
    expect(Math.abs(held.expiresAt.getTime() - (dbNow + 60_000))).toBeLessThan(5_000);
    const conflict = await store.reservations
      .reserve(k, { leaseMs: 60_000 })
      .catch((error: unknown) => error);
    expect(conflict).toMatchObject({ code: 'reservation_conflict', expiresAt: held.expiresAt });
  });

  it('confirm for an identity that already has a user is reservation_conflict; the user is untouched', async () => {
    const k = key('dupe');
    const { user } = await store.upsert(newUser(k));
    const held = await store.reservations.reserve(k, { leaseMs: 10_000 });
    await expect(store.reservations.confirm(newUser(k), held, `app-${randomUUID()}`)).rejects.toMatchObject({
      code: 'reservation_conflict',
    });
    expect((await store.lookup(k))?.id).toBe(user.id);
    await store.reservations.release(k, held);
  });

  it('confirm with an app id that is already taken is reservation_conflict', async () => {
    const { user } = await store.upsert(newUser(key('taken')));
    const k = key('second');
    const held = await store.reservations.reserve(k, { leaseMs: 10_000 });
    await expect(store.reservations.confirm(newUser(k), held, user.id)).rejects.toMatchObject({
      code: 'reservation_conflict',
    });
    expect(await store.lookup(k)).toBeNull();
  });

  it('of 20 parallel confirms of one reservation exactly one creates the user', async () => {
    const k = key('confirm-race');
    const held = await store.reservations.reserve(k, { leaseMs: 10_000 });
    const settled = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.reservations.confirm(newUser(k), held, `app-${randomUUID()}`)),
    );
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    for (const s of settled)
      if (s.status === 'rejected') expect(s.reason).toMatchObject({ code: 'reservation_conflict' });
  });
});

describe('invitations', () => {
  const invitation = (email: string) => ({
    id: randomUUID(),
    tokenHash: randomBytes(32).toString('base64url'),
    email,
    role: 'user',
    invitedBy: 'admin',
    expiresAt: new Date(Date.now() + HOUR),
  });

  it('replacing matches the email trimmed and case-insensitively; the old token stops working', async () => {
    const email = `ada-${randomBytes(4).toString('hex')}@example.com`;
    const first = invitation(email);
    await store.invitations.createInvitation(first);
    await store.invitations.createInvitation(invitation(`  ${email.toUpperCase()} `));
    expect((await store.invitations.findInvitation([first.tokenHash]))?.revokedAt).toBeInstanceOf(Date);
    expect(await store.invitations.consumeInvitation(first.id, new Date())).toBeNull();
  });

  it('10 parallel creations for one email leave exactly one pending', async () => {
    const email = `race-${randomBytes(4).toString('hex')}@example.com`;
    const pools = Array.from({ length: 3 }, () => db.newPool({ max: 4 }));
    const stores = pools.map((pool) => createPostgresStore({ pool, schema: db.schema }));
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => stores[i % 3]?.invitations.createInvitation(invitation(email))),
    );
    const { rows } = await db.pool.query(
      `SELECT id FROM "${db.schema}".invitations WHERE email = $1 AND revoked_at IS NULL AND consumed_at IS NULL`,
      [email],
    );
    expect(rows).toHaveLength(1);
  });

  it('50 parallel consumes of one invitation over 3 pools: exactly one success', async () => {
    const input = invitation(`once-${randomBytes(4).toString('hex')}@example.com`);
    await store.invitations.createInvitation(input);
    const pools = Array.from({ length: 3 }, () => db.newPool({ max: 5 }));
    const stores = pools.map((pool) => createPostgresStore({ pool, schema: db.schema }));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        stores[i % 3]?.invitations.consumeInvitation(input.id, new Date()),
      ),
    );
    expect(results.filter((r) => r != null)).toHaveLength(1);
  });

  it('a duplicate token hash is invalid_request, not a driver error', async () => {
    const input = invitation(`dup-${randomBytes(4).toString('hex')}@example.com`);
    await store.invitations.createInvitation(input);
    await expect(
      store.invitations.createInvitation({ ...invitation('other@example.com'), tokenHash: input.tokenHash }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('never returns the token hash', async () => {
    const input = invitation(`hash-${randomBytes(4).toString('hex')}@example.com`);
    const created = await store.invitations.createInvitation(input);
    const listed = await store.invitations.listInvitations({ status: 'pending', now: new Date() });
    for (const value of [created, ...listed]) expect(JSON.stringify(value)).not.toContain(input.tokenHash);
  });
});

describe('getUserByUsername', () => {
  it('finds a user by its username, exactly (no pattern matching), and null for an unknown one', async () => {
    const { user } = await store.upsert(newUser(key('byname')));
    expect(await store.getUserByUsername(user.username)).toEqual(user);
    expect(await store.getUserByUsername(`${user.username.slice(0, -2)}%`)).toBeNull();
    expect(await store.getUserByUsername('oidc:st:nobody')).toBeNull();
  });
});
