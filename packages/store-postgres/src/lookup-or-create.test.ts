import { randomBytes } from 'node:crypto';
import type { NewUser, StoreKey } from '@jit-provision/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from './index';
import { createTestDatabase, type TestDatabase } from './test-support/database';

let db: TestDatabase;
let store: PostgresStore;
beforeAll(async () => {
  db = await createTestDatabase('lookup_create');
  store = createPostgresStore({ pool: db.pool, schema: db.schema });
});
afterAll(async () => {
  await db?.close();
});

const ISSUER = 'https://lookup-create.jit-provision.test';
const key = (label: string): StoreKey => ({
  issuer: ISSUER,
  subject: `${label}-${randomBytes(6).toString('hex')}`,
});
const newUser = (k: StoreKey, extra: Partial<NewUser> = {}): NewUser => ({
  ...k,
  username: `oidc:lc:${k.subject}`,
  role: 'user',
  ...extra,
});
const withEvent = (k: StoreKey, extra: Partial<NewUser> = {}) =>
  newUser(k, { emitEvent: { identity: { ...k } }, ...extra });

const rowsOf = async (k: StoreKey) =>
  (
    await db.pool.query<{ id: string }>(
      `SELECT id FROM "${db.schema}".users WHERE issuer = $1 AND subject = $2`,
      [k.issuer, k.subject],
    )
  ).rows;
const eventsOf = async (userId: string) =>
  (
    await db.pool.query<{ type: string; actor: string | null }>(
      `SELECT type, actor FROM "${db.schema}".outbox WHERE user_id = $1`,
      [userId],
    )
  ).rows;

describe('lookupOrCreate', () => {
  it('creates an absent row (created: true), then answers it as stored (created: false, no sync)', async () => {
    const k = key('once');
    const first = await store.lookupOrCreate(newUser(k, { email: 'a@example.com', role: 'viewer' }));
    expect(first.created).toBe(true);
    expect(first.user).toMatchObject({ ...k, email: 'a@example.com', role: 'viewer', roleSource: 'default' });
    expect(first.user).toEqual(await store.lookup(k));
    // A login's row is seen as it is created: the provisioner's lastSeen has nothing to write.
    expect(first.user.lastSeenAt).toEqual(first.user.createdAt);
    // The caller syncs a changed profile (the provisioner does): this call only reads an existing row.
    const again = await store.lookupOrCreate(newUser(k, { email: 'b@example.com', role: 'admin' }));
    expect(again).toEqual({ user: first.user, created: false });
    expect(await rowsOf(k)).toHaveLength(1);
  });

  it('writes the user.provisioned event with the row, and none for an existing row', async () => {
    const k = key('event');
    const { user } = await store.lookupOrCreate(withEvent(k));
    await store.lookupOrCreate(withEvent(k));
    expect(await eventsOf(user.id)).toEqual([{ type: 'user.provisioned', actor: null }]);
  });

  it('a disabled row is answered as it is (the provisioner refuses it), never re-created', async () => {
    const k = key('disabled');
    const { user } = await store.lookupOrCreate(newUser(k));
    await store.users.setStatus(user.id, 'disabled');
    const again = await store.lookupOrCreate(withEvent(k));
    expect(again.created).toBe(false);
    expect(again.user.status).toBe('disabled');
    expect(await eventsOf(user.id)).toEqual([]);
  });

  it('a username owned by another identity is reservation_conflict, and nothing is written', async () => {
    const owner = newUser(key('owner'));
    await store.lookupOrCreate(owner);
    const thief = key('thief');
    await expect(store.lookupOrCreate(newUser(thief, { username: owner.username }))).rejects.toMatchObject({
      code: 'reservation_conflict',
    });
    expect(await store.lookup(thief)).toBeNull();
  });

  it('3 storms of 200 parallel calls for one identity over 4 pools: one row, one created, one event', async () => {
    const pools = Array.from({ length: 4 }, () => db.newPool({ max: 5 }));
    const stores = pools.map((pool) => createPostgresStore({ pool, schema: db.schema, listen: false }));
    for (let round = 0; round < 3; round++) {
      const k = key(`storm${round}`);
      const settled = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => stores[i % 4]?.lookupOrCreate(withEvent(k))),
      );
      expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
      const results = settled.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
      expect(results).toHaveLength(200);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const ids = new Set(results.map((r) => r.user.id));
      expect(ids.size).toBe(1);
      expect(await rowsOf(k)).toHaveLength(1);
      expect(await eventsOf([...ids][0] as string)).toHaveLength(1);
    }
  });

  it('an externalId goes through upsert: it binds the row SCIM made instead of creating one', async () => {
    const externalId = `ext-${randomBytes(4).toString('hex')}`;
    const { record } = await store.scim.createUser({
      issuer: ISSUER,
      subject: null,
      username: `scim:${externalId}`,
      role: 'user',
      userName: `${externalId}@example.com`,
      externalId,
      attributes: {},
      email: null,
      name: null,
    });
    const k = key('bind');
    const bound = await store.lookupOrCreate(newUser(k, { externalId }));
    expect(bound.created).toBe(false);
    expect(bound.user.id).toBe(record.user.id);
    expect(bound.user.subject).toBe(k.subject);
  });
});
