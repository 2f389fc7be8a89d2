import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import type { Store } from '../store';
import type { UserRecord } from '../types';
import { createProvisioner } from './provisioner';

// The user cache's documented guarantees (docs/performance.md): bounded, expiring, profile changes reach the
// store, local invalidation at once, other processes within ttlMs; and `cache: false` turning both caches off.
const ISS = 'https://sso.example.com/realms/main';
const id = (subject: string, email = `${subject}@example.com`) => ({ issuer: ISS, subject, email });

afterEach(() => vi.useRealTimers());

describe('user cache', () => {
  it('expires entries after cache.ttlMs, and a hit does not extend them', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const provisioner = createProvisioner({ store: createMemoryStore(), cache: { ttlMs: 1_000 } });
    await provisioner.ensureUserExists(id('ttl'));
    vi.advanceTimersByTime(600);
    expect((await provisioner.ensureUserExists(id('ttl'))).path).toBe('cache');
    vi.advanceTimersByTime(399);
    expect((await provisioner.ensureUserExists(id('ttl'))).path).toBe('cache');
    vi.advanceTimersByTime(1);
    expect((await provisioner.ensureUserExists(id('ttl'))).path).toBe('fast');
  });

  it('holds at most cache.maxEntries users, evicting the least recently used', async () => {
    const store = createMemoryStore();
    const lookup = vi.spyOn(store, 'lookup');
    const provisioner = createProvisioner({ store, cache: { maxEntries: 3 } });
    for (const s of ['a', 'b', 'c']) await provisioner.ensureUserExists(id(s));
    await provisioner.ensureUserExists(id('a')); // a is now the most recent
    await provisioner.ensureUserExists(id('d')); // evicts b
    lookup.mockClear();
    expect((await provisioner.ensureUserExists(id('a'))).path).toBe('cache');
    expect((await provisioner.ensureUserExists(id('c'))).path).toBe('cache');
    expect((await provisioner.ensureUserExists(id('b'))).path).toBe('fast');
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('hands out frozen records: a handler cannot change what the next request of that user sees', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store });
    const first = await provisioner.ensureUserExists(id('frozen'));
    const [hit, other] = await Promise.all([
      provisioner.ensureUserExists(id('frozen')),
      provisioner.ensureUserExists(id('frozen')),
    ]);
    expect(hit.path).toBe('cache');
    for (const result of [first, hit, other]) {
      // Test files are ES modules, so strict mode: assigning to a frozen property throws.
      expect(() => {
        (result.user as { role: string }).role = 'admin';
      }).toThrow(TypeError);
    }
    expect((await provisioner.ensureUserExists(id('frozen'))).user.role).toBe('user');
    expect((await store.lookup(id('frozen')))?.role).toBe('user');
    // The provisioner freezes a copy, never a store's own object (store-memory answers a snapshot it froze
    // itself, handed out as is): a store whose rows are mutable gets them back mutable.
    const row = { ...(await store.lookup(id('frozen'))) } as UserRecord;
    const mutable: Store = { ...store, inProcess: false, lookup: async () => row };
    const served = await createProvisioner({ store: mutable, userCache: false }).ensureUserExists(
      id('frozen'),
    );
    expect(Object.isFrozen(row)).toBe(false);
    expect(Object.isFrozen(served.user)).toBe(true);
    expect(served.user).not.toBe(row);
  });

  it('a changed email or name skips the cache and reaches the store', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store });
    const { user } = await provisioner.ensureUserExists(id('mail'));
    const changed = await provisioner.ensureUserExists({
      ...id('mail', 'new@example.com'),
      name: 'New Name',
    });
    expect(changed.path).toBe('fast');
    expect(changed.user).toMatchObject({ id: user.id, email: 'new@example.com', name: 'New Name' });
    expect(await store.lookup(id('mail'))).toMatchObject({ email: 'new@example.com', name: 'New Name' });
    // The store reported the change (its feed drops the user everywhere), so one more read, then cached.
    const again = { ...id('mail', 'new@example.com'), name: 'New Name' };
    expect((await provisioner.ensureUserExists(again)).path).toBe('fast');
    expect((await provisioner.ensureUserExists(again)).path).toBe('cache');
  });

  it("setRole in one process is seen at once there and, through the store's change feed, in another", async () => {
    const store = createMemoryStore(); // shared, as one database behind two processes
    const a = createProvisioner({ store });
    const b = createProvisioner({ store });
    const { user } = await a.ensureUserExists(id('feed'));
    await b.ensureUserExists(id('feed'));
    expect((await b.ensureUserExists(id('feed'))).path).toBe('cache');
    await a.setRole(user.id, 'admin');
    expect((await a.ensureUserExists(id('feed'))).user.role).toBe('admin');
    expect(await b.ensureUserExists(id('feed'))).toMatchObject({ path: 'fast', user: { role: 'admin' } });
  });

  it('without a change feed, another process sees setRole within cache.ttlMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { changes: _none, ...store } = createMemoryStore(); // a store that pushes no changes
    const a = createProvisioner({ store, cache: { ttlMs: 30_000 } });
    const b = createProvisioner({ store, cache: { ttlMs: 30_000 } });
    const { user } = await a.ensureUserExists(id('role'));
    await b.ensureUserExists(id('role'));
    await a.setRole(user.id, 'admin');
    expect((await a.ensureUserExists(id('role'))).user.role).toBe('admin');
    // b still serves its cached record: the documented staleness bound.
    vi.advanceTimersByTime(29_999);
    expect((await b.ensureUserExists(id('role'))).user.role).toBe('user');
    vi.advanceTimersByTime(1);
    expect((await b.ensureUserExists(id('role'))).user.role).toBe('admin');
  });

  it('refuses nonsensical bounds', () => {
    const store = createMemoryStore();
    for (const cache of [{ maxEntries: 0 }, { ttlMs: 0 }, { ttlMs: Number.NaN }, { maxEntries: -5 }]) {
      expect(() => createProvisioner({ store, cache })).toThrow(
        expect.objectContaining({ code: 'configuration_error' }),
      );
    }
  });
});

describe('cache: false', () => {
  let idp: DevIssuer;
  beforeAll(async () => {
    idp = await createDevIssuer();
  });
  afterAll(() => idp.close());

  it('turns off both the user cache and the token cache', async () => {
    const store = createMemoryStore();
    const lookup = vi.spyOn(store, 'lookup');
    const token = await idp.mint({ sub: 'nocache' }, { audience: 'api' });
    const headers = { authorization: `Bearer ${token}` };
    const on = createProvisioner({ store, issuers: [{ issuer: idp.issuer, audience: 'api' }] });
    const off = createProvisioner({
      store,
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
      cache: false,
    });

    await on.authenticate({ headers });
    const cached = await on.authenticate({ headers });
    expect(Object.isFrozen(cached.claims)).toBe(true); // served from the token cache
    expect(lookup).toHaveBeenCalledTimes(1); // and from the user cache

    lookup.mockClear();
    await off.authenticate({ headers });
    const uncached = await off.authenticate({ headers });
    expect(Object.isFrozen(uncached.claims)).toBe(false);
    expect(lookup).toHaveBeenCalledTimes(2);
  });
});

describe('userCache and tokenCache', () => {
  let idp: DevIssuer;
  beforeAll(async () => {
    idp = await createDevIssuer();
  });
  afterAll(() => idp.close());

  const setup = async (sub: string) => {
    const store = createMemoryStore();
    const lookup = vi.spyOn(store, 'lookup');
    const token = await idp.mint({ sub }, { audience: 'api' });
    return { store, lookup, headers: { authorization: `Bearer ${token}` } };
  };
  const issuers = () => [{ issuer: idp.issuer, audience: 'api' }];

  it('userCache: false reads the store on every request and keeps the token cache', async () => {
    const { store, lookup, headers } = await setup('users-off');
    const provisioner = createProvisioner({ store, issuers: issuers(), userCache: false });
    await provisioner.authenticate({ headers });
    const second = await provisioner.authenticate({ headers });
    expect(Object.isFrozen(second.claims)).toBe(true);
    expect(lookup).toHaveBeenCalledTimes(2);
  });

  it('tokenCache: false verifies every request and keeps the user cache', async () => {
    const { store, lookup, headers } = await setup('tokens-off');
    const provisioner = createProvisioner({ store, issuers: issuers(), tokenCache: false });
    await provisioner.authenticate({ headers });
    const second = await provisioner.authenticate({ headers });
    expect(Object.isFrozen(second.claims)).toBe(false);
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('userCache.ttlMs bounds the user cache', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const provisioner = createProvisioner({ store: createMemoryStore(), userCache: { ttlMs: 1_000 } });
    await provisioner.ensureUserExists(id('user-ttl'));
    vi.advanceTimersByTime(999);
    expect((await provisioner.ensureUserExists(id('user-ttl'))).path).toBe('cache');
    vi.advanceTimersByTime(1);
    expect((await provisioner.ensureUserExists(id('user-ttl'))).path).toBe('fast');
  });

  it('refuses nonsensical bounds in either', () => {
    const store = createMemoryStore();
    for (const bounds of [{ maxEntries: 0 }, { ttlMs: 0 }, { ttlMs: Number.NaN }]) {
      for (const options of [{ userCache: bounds }, { tokenCache: bounds }]) {
        expect(() => createProvisioner({ store, ...options })).toThrow(
          expect.objectContaining({ code: 'configuration_error' }),
        );
      }
    }
  });

  it('the deprecated `cache` still sets both, and warns once through the logger', async () => {
    const { store, lookup, headers } = await setup('deprecated');
    const logger = { warn: vi.fn(), error: vi.fn() };
    const provisioner = createProvisioner({ store, issuers: issuers(), cache: false, logger });
    await provisioner.authenticate({ headers });
    const second = await provisioner.authenticate({ headers });
    expect(Object.isFrozen(second.claims)).toBe(false);
    expect(lookup).toHaveBeenCalledTimes(2);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatchObject({ option: 'cache' });

    const quiet = { warn: vi.fn(), error: vi.fn() };
    await createProvisioner({ store, issuers: issuers(), userCache: false, logger: quiet }).authenticate({
      headers,
    });
    expect(quiet.warn).not.toHaveBeenCalled();
  });
});
