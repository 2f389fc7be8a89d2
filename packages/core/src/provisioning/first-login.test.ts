import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import type { NewUser } from '../store';
import type { Policy, ProvisionedEvent } from '../types';
import { NEW_SHARE_TO_COMBINE } from './first-login';
import { createProvisioner } from './provisioner';

const ISS = 'https://sso.example.com/realms/main';
const off = { userCache: false, tokenCache: false } as const;

/**
 * store-memory with the optional `lookupOrCreate`, made of its own atomic steps: the row as stored, else its
 * atomic upsert (one created of any number of racers). store-memory itself does not implement it (yet). Not
 * `inProcess`: this stands for a database store, whose lookups take the single flight and the combined call.
 */
function combinedStore() {
  const store = createMemoryStore();
  // The store's own read, taken before the spy: the spy counts the provisioner's lookups only.
  const read = store.lookup.bind(store);
  const lookupOrCreate = vi.fn(async (input: NewUser) => {
    const found = await read(input);
    return found === null ? store.upsert(input) : { user: found, created: false };
  });
  const lookup = vi.spyOn(store, 'lookup');
  return { store: Object.assign(store, { lookupOrCreate, inProcess: false }), lookupOrCreate, lookup };
}

describe('a first login in one store call (store.lookupOrCreate)', () => {
  it('used when nothing gates a creation: created once under a race, hooks once, then the fast path syncs the profile', async () => {
    const { store, lookupOrCreate, lookup } = combinedStore();
    const seen: ProvisionedEvent[] = [];
    const provisioners = Array.from({ length: 3 }, () =>
      createProvisioner({ store, ...off, onProvisioned: [(e) => void seen.push(e)] }),
    );
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        provisioners[i % 3]?.ensureUserExists({ issuer: ISS, subject: 'one', email: 'a@example.com' }),
      ),
    );
    expect(results.filter((r) => r?.created)).toHaveLength(1);
    expect(results.find((r) => r?.created)).toMatchObject({ path: 'slow', user: { role: 'user' } });
    expect(new Set(results.map((r) => r?.user.id)).size).toBe(1);
    expect(seen).toHaveLength(1);
    expect(lookupOrCreate).toHaveBeenCalled();
    expect(lookup).not.toHaveBeenCalled();

    const again = await provisioners[0]?.ensureUserExists({
      issuer: ISS,
      subject: 'one',
      email: 'b@example.com',
    });
    expect(again).toMatchObject({ created: false, path: 'fast', user: { email: 'b@example.com' } });
    expect((await store.lookup({ issuer: ISS, subject: 'one' }))?.email).toBe('b@example.com');
    expect(seen).toHaveLength(1);
  });

  it('a disabled user is refused through it, and nothing is synced', async () => {
    const { store, lookupOrCreate } = combinedStore();
    const provisioner = createProvisioner({ store, ...off });
    const { user } = await provisioner.ensureUserExists({
      issuer: ISS,
      subject: 'd',
      email: 'd@example.com',
    });
    await store.users.setStatus(user.id, 'disabled');
    await expect(
      provisioner.ensureUserExists({ issuer: ISS, subject: 'd', email: 'new@example.com' }),
    ).rejects.toMatchObject({ code: 'user_disabled' });
    expect(lookupOrCreate).toHaveBeenCalledTimes(2);
    expect((await store.lookup({ issuer: ISS, subject: 'd' }))?.email).toBe('d@example.com');
  });

  it('a policy still gates the creation: lookup → policy → upsert, never the combined call', async () => {
    const { store, lookupOrCreate } = combinedStore();
    const beforeCreate = vi.fn<Policy['beforeCreate']>(async () => ({ role: 'editor' }));
    const provisioner = createProvisioner({ store, ...off, policies: [{ name: 'gate', beforeCreate }] });
    const result = await provisioner.ensureUserExists({ issuer: ISS, subject: 'p' });
    expect(result).toMatchObject({ created: true, user: { role: 'editor', roleSource: 'local' } });
    expect(beforeCreate).toHaveBeenCalledTimes(1);
    expect(lookupOrCreate).not.toHaveBeenCalled();
  });

  it('autoCreate: false still refuses an unknown user, and creates nothing', async () => {
    const { store, lookupOrCreate } = combinedStore();
    const provisioner = createProvisioner({ store, ...off, autoCreate: false });
    await expect(provisioner.ensureUserExists({ issuer: ISS, subject: 'x' })).rejects.toMatchObject({
      code: 'user_not_provisioned',
    });
    expect(lookupOrCreate).not.toHaveBeenCalled();
    expect(await store.lookup({ issuer: ISS, subject: 'x' })).toBeNull();
  });

  it("createUser mode: the app's createUser creates the user", async () => {
    const { store, lookupOrCreate } = combinedStore();
    const createUser = vi.fn(async () => 'app-user-1');
    const provisioner = createProvisioner({ store, ...off, createUser });
    const result = await provisioner.ensureUserExists({ issuer: ISS, subject: 'c' });
    expect(result).toMatchObject({ created: true, user: { id: 'app-user-1' } });
    expect(createUser).toHaveBeenCalledTimes(1);
    expect(lookupOrCreate).not.toHaveBeenCalled();
  });

  it('an identity with an externalId takes lookup → slow path (it may bind the row SCIM made)', async () => {
    const { store, lookupOrCreate, lookup } = combinedStore();
    const provisioner = createProvisioner({ store, ...off });
    const result = await provisioner.ensureUserExists({ issuer: ISS, subject: 'e', externalId: 'oid-e' });
    expect(result).toMatchObject({ created: true, user: { externalId: 'oid-e' } });
    expect(lookupOrCreate).not.toHaveBeenCalled();
    expect(lookup).toHaveBeenCalled();
  });

  it('while cache misses are mostly existing users the plain lookup serves them; new users bring the combined call back', async () => {
    const { store, lookupOrCreate, lookup } = combinedStore();
    const provisioner = createProvisioner({ store, ...off });
    for (let i = 0; i < 100; i++) await provisioner.preProvision({ issuer: ISS, subject: `old-${i}` });
    for (let i = 0; i < 100; i++) await provisioner.ensureUserExists({ issuer: ISS, subject: `old-${i}` });
    const combinedForExisting = lookupOrCreate.mock.calls.length;
    expect(combinedForExisting).toBeGreaterThan(0);
    expect(combinedForExisting).toBeLessThan(100);
    expect(lookup.mock.calls.length).toBe(100 - combinedForExisting);

    lookupOrCreate.mockClear();
    const created = [];
    for (let i = 0; i < 100; i++)
      created.push((await provisioner.ensureUserExists({ issuer: ISS, subject: `new-${i}` })).created);
    expect(created.every(Boolean)).toBe(true);
    // After a few new users the estimate passes the threshold again, and the rest take one store call each.
    expect(lookupOrCreate.mock.calls.length).toBeGreaterThan(100 * (1 - NEW_SHARE_TO_COMBINE));
  });
});
