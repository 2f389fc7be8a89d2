import type { Store } from '@jit-provision/core';
import { createProvisioner } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshKey, type StoreConformanceOptions, sleep } from './options';

/** The setup every group of the `reservations` cases shares: a fresh store per case, and its helpers. */
function reservationsContext<S extends Store>(options: StoreConformanceOptions<S>) {
  let store: S;
  beforeEach(async () => {
    store = await options.createStore();
  });
  afterEach(async () => {
    await options.cleanup?.(store);
  });

  const newUser = (key: { issuer: string; subject: string }) => ({
    ...key,
    username: `oidc:conf:${key.subject}`,
    role: 'user',
    email: 'held@example.com',
    name: null,
    tenantId: null,
  });
  const appId = () => `app-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  return {
    get store() {
      return store;
    },
    newUser,
    appId,
  };
}

type ReservationsContext<S extends Store> = ReturnType<typeof reservationsContext<S>>;

/** The store part: conflict, release, confirm, expired-lease takeover, one winner of 20. */
function reservationStoreCases<S extends Store>(cases: ReservationsContext<S>): void {
  const { newUser, appId } = cases;
  it('a live reservation refuses a second one with reservation_conflict', async () => {
    const { store } = cases;
    const key = freshKey('held');
    const held = await store.reservations!.reserve(key, { leaseMs: 10_000 });
    expect(held.expiresAt).toBeInstanceOf(Date);
    await expect(store.reservations!.reserve(key, { leaseMs: 10_000 })).rejects.toMatchObject({
      code: 'reservation_conflict',
    });
  });

  it('release, then the identity can be reserved again', async () => {
    const { store } = cases;
    const key = freshKey('release');
    const held = await store.reservations!.reserve(key, { leaseMs: 10_000 });
    await store.reservations!.release(key, held);
    const again = await store.reservations!.reserve(key, { leaseMs: 10_000 });
    expect(again.token).not.toBe(held.token);
  });

  it('confirm creates the user with the app id and frees the identity', async () => {
    const { store } = cases;
    const key = freshKey('confirm');
    const held = await store.reservations!.reserve(key, { leaseMs: 10_000 });
    const id = appId();
    const user = await store.reservations!.confirm(newUser(key), held, id);
    expect(user).toMatchObject({ id, issuer: key.issuer, subject: key.subject, email: 'held@example.com' });
    expect((await store.lookup(key))?.id).toBe(id);
  });

  it('an expired lease is taken over, and the stale holder can neither confirm nor release', async () => {
    const { store } = cases;
    const key = freshKey('expired');
    const crashed = await store.reservations!.reserve(key, { leaseMs: 50 });
    await sleep(120);
    const taker = await store.reservations!.reserve(key, { leaseMs: 10_000 });
    expect(taker.token).not.toBe(crashed.token);
    await expect(store.reservations!.confirm(newUser(key), crashed, appId())).rejects.toMatchObject({
      code: 'reservation_conflict',
    });
    expect(await store.lookup(key)).toBeNull();
    await store.reservations!.release(key, crashed);
    // The taker still holds it.
    await expect(store.reservations!.reserve(key, { leaseMs: 10_000 })).rejects.toMatchObject({
      code: 'reservation_conflict',
    });
    const user = await store.reservations!.confirm(newUser(key), taker, appId());
    expect((await store.lookup(key))?.id).toBe(user.id);
  });

  it('20 parallel reserves of one identity: exactly one wins', async () => {
    const { store } = cases;
    const key = freshKey('reserve-race');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.reservations!.reserve(key, { leaseMs: 10_000 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'reservation_conflict' });
  });
}

/** createUser mode through provisioners: one createUser call, crash takeover, release on failure. */
function createUserModeCases<S extends Store>(cases: ReservationsContext<S>): void {
  const { appId } = cases;
  it('createUser mode: 40 parallel first logins across 4 provisioners call createUser once; losers get the winner', async () => {
    const { store } = cases;
    const key = freshKey('app');
    let calls = 0;
    const createUser = async () => {
      calls += 1;
      await sleep(30);
      return appId();
    };
    const provisioners = Array.from({ length: 4 }, () =>
      createProvisioner({ store, userCache: false, tokenCache: false, createUser }),
    );
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => provisioners[i % 4]?.ensureUserExists(key)),
    );
    expect(calls).toBe(1);
    expect(results.filter((r) => r?.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r?.user.id)).size).toBe(1);
  });

  it('createUser mode: a crashed holder (expired lease) is taken over by the next login', async () => {
    const { store } = cases;
    const key = freshKey('crash');
    await store.reservations!.reserve(key, { leaseMs: 100 }); // never confirmed nor released
    const provisioner = createProvisioner({
      store,
      userCache: false,
      tokenCache: false,
      createUser: async () => appId(),
      reservation: { leaseMs: 5_000, waitMs: 3_000 },
    });
    const result = await provisioner.ensureUserExists(key);
    expect(result.created).toBe(true);
    expect((await store.lookup(key))?.id).toBe(result.user.id);
  });

  it('createUser mode: a failing createUser releases the reservation and creates nothing', async () => {
    const { store } = cases;
    const key = freshKey('fail');
    const failing = createProvisioner({
      store,
      userCache: false,
      tokenCache: false,
      createUser: async () => {
        throw new Error('app database down');
      },
    });
    await expect(failing.ensureUserExists(key)).rejects.toThrow();
    expect(await store.lookup(key)).toBeNull();
    const held = await store.reservations!.reserve(key, { leaseMs: 1_000 }); // not blocked by the failed attempt
    await store.reservations!.release(key, held);
  });
}

export function reservationCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('reservations', () => {
    const cases = reservationsContext(options);
    reservationStoreCases(cases);
    createUserModeCases(cases);
  });
}
