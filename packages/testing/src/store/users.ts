import type { Store } from '@jit-provision/core';
import { createProvisioner } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshKey, type StoreConformanceOptions } from './options';

/** The setup every group of the `users` cases shares: a fresh store per case, and its helpers. */
function usersContext<S extends Store>(options: StoreConformanceOptions<S>) {
  let store: S;
  beforeEach(async () => {
    store = await options.createStore();
  });
  afterEach(async () => {
    await options.cleanup?.(store);
  });

  const newUser = (
    key = freshKey(),
    extra: { email?: string | null; name?: string | null; role?: string } = {},
  ) => ({
    ...key,
    username: `oidc:conf:${key.subject}`,
    role: extra.role ?? 'user',
    email: extra.email ?? null,
    name: extra.name ?? null,
    tenantId: null,
  });
  return {
    get store() {
      return store;
    },
    newUser,
  };
}

type UsersContext<S extends Store> = ReturnType<typeof usersContext<S>>;

/** Rows: lookup, upsert (created once, profile sync), sync and setRole. */
function userRowCases<S extends Store>(cases: UsersContext<S>): void {
  const { newUser } = cases;
  it('lookup returns null for an unknown identity', async () => {
    const { store } = cases;
    expect(await store.lookup(freshKey())).toBeNull();
  });

  it('upsert creates a row that lookup and getUser return with every field', async () => {
    const { store } = cases;
    const input = { ...newUser(freshKey(), { email: 'ada@example.com', name: 'Ada' }), tenantId: 'acme' };
    const { user, created } = await store.upsert(input);
    expect(created).toBe(true);
    expect(user).toMatchObject({
      issuer: input.issuer,
      subject: input.subject,
      username: input.username,
      email: 'ada@example.com',
      name: 'Ada',
      role: 'user',
      tenantId: 'acme',
    });
    expect(typeof user.id).toBe('string');
    expect(user.createdAt).toBeInstanceOf(Date);
    expect(user.updatedAt).toBeInstanceOf(Date);
    expect(await store.lookup(input)).toEqual(user);
    expect(await store.getUser(user.id)).toEqual(user);
    expect(await store.getUser('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('upsert reports created once, then false with the same id, and keeps the first role', async () => {
    const { store } = cases;
    const key = freshKey();
    const first = await store.upsert(newUser(key, { role: 'user' }));
    const second = await store.upsert(newUser(key, { role: 'admin' }));
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.user.id).toBe(first.user.id);
    expect(second.user.role).toBe('user');
  });

  it('upsert of an existing identity syncs a changed email and name', async () => {
    const { store } = cases;
    const key = freshKey();
    await store.upsert(newUser(key, { email: 'old@example.com', name: 'Old' }));
    const { user, created } = await store.upsert(newUser(key, { email: 'new@example.com', name: 'New' }));
    expect(created).toBe(false);
    expect(user.email).toBe('new@example.com');
    expect((await store.lookup(key))?.name).toBe('New');
  });

  it('the same subject under another issuer is another user; the same email links nothing', async () => {
    const { store } = cases;
    const key = freshKey();
    const a = await store.upsert(newUser(key, { email: 'same@example.com' }));
    const other = { issuer: 'https://other.jit-provision.test', subject: key.subject };
    const b = await store.upsert({
      ...newUser(other, { email: 'same@example.com' }),
      username: `oidc:other:${key.subject}`,
    });
    expect(b.created).toBe(true);
    expect(b.user.id).not.toBe(a.user.id);
  });

  it('sync writes email and name, null clears, undefined keeps', async () => {
    const { store } = cases;
    const { user } = await store.upsert(newUser(freshKey(), { email: 'a@example.com', name: 'A' }));
    const synced = await store.sync(user.id, { email: 'b@example.com' });
    expect(synced).toMatchObject({ email: 'b@example.com', name: 'A' });
    expect(synced.updatedAt.getTime()).toBeGreaterThanOrEqual(user.updatedAt.getTime());
    const cleared = await store.sync(user.id, { name: null });
    expect(cleared).toMatchObject({ email: 'b@example.com', name: null });
  });

  it('setRole changes the role; an unknown id is user_not_found', async () => {
    const { store } = cases;
    const { user } = await store.upsert(newUser());
    expect((await store.setRole(user.id, 'admin')).role).toBe('admin');
    expect((await store.getUser(user.id))?.role).toBe('admin');
    await expect(store.setRole('00000000-0000-4000-8000-000000000000', 'admin')).rejects.toMatchObject({
      code: 'user_not_found',
    });
  });
}

/** Races: parallel upserts and first logins across provisioners create each user once. */
function userRaceCases<S extends Store>(cases: UsersContext<S>): void {
  const { newUser } = cases;
  it('100 parallel upserts of one identity: one row, exactly one created', async () => {
    const { store } = cases;
    const key = freshKey('storm');
    const results = await Promise.all(Array.from({ length: 100 }, () => store.upsert(newUser(key))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
  });

  it('100 parallel ensureUserExists of one identity across 4 provisioners: one user, one created', async () => {
    const { store } = cases;
    const key = freshKey('race');
    // Four provisioners stand for four processes: in-process single-flight cannot hide a store race.
    const provisioners = Array.from({ length: 4 }, () =>
      createProvisioner({ store, userCache: false, tokenCache: false }),
    );
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        provisioners[i % 4]?.ensureUserExists({ ...key, email: 'r@example.com' }),
      ),
    );
    expect(results.filter((r) => r?.created)).toHaveLength(1);
    const ids = new Set(results.map((r) => r?.user.id));
    expect(ids.size).toBe(1);
    expect((await store.lookup(key))?.id).toBe([...ids][0]);
  });

  it('100 parallel ensureUserExists of 100 identities: 100 users, all created', async () => {
    const { store } = cases;
    const provisioner = createProvisioner({ store, userCache: false, tokenCache: false });
    const keys = Array.from({ length: 100 }, () => freshKey('many'));
    const results = await Promise.all(keys.map((key) => provisioner.ensureUserExists(key)));
    expect(results.every((r) => r.created)).toBe(true);
    expect(new Set(results.map((r) => r.user.id)).size).toBe(100);
    const found = await Promise.all(keys.map((key) => store.lookup(key)));
    expect(found.map((u) => u?.id)).toEqual(results.map((r) => r.user.id));
  });
}

export function userCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('users', () => {
    const cases = usersContext(options);
    userRowCases(cases);
    userRaceCases(cases);
  });
}
