import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import type { Store } from '../store';
import { createProvisioner } from './provisioner';

const ISS = 'https://sso.example.com/realms/main';
const uncached = (store: Store) => createProvisioner({ store, userCache: false, tokenCache: false });

describe('the fast path of an in-process store (issue 33)', () => {
  it('looks an in-process store up without the single flight; a database store still shares one lookup', async () => {
    const memory = createMemoryStore();
    expect(memory.inProcess).toBe(true);
    await memory.upsert({ issuer: ISS, subject: 'u', username: 'u', role: 'user' });
    // The same store without the flag: what a store that reads a database looks like to the provisioner.
    const remote: Store = { ...memory, inProcess: false };
    const local = vi.spyOn(memory, 'lookup');
    const remoteLookup = vi.spyOn(remote, 'lookup');

    const together = (store: Store) => {
      const provisioner = uncached(store);
      return Promise.all(
        Array.from({ length: 10 }, () => provisioner.ensureUserExists({ issuer: ISS, subject: 'u' })),
      );
    };
    const [fromLocal, fromRemote] = [await together(memory), await together(remote)];
    expect(remoteLookup).toHaveBeenCalledTimes(1);
    expect(local).toHaveBeenCalledTimes(10);
    for (const result of [...fromLocal, ...fromRemote]) {
      expect(result).toMatchObject({ created: false, path: 'fast' });
      expect(Object.isFrozen(result.user)).toBe(true);
    }
    // The store's frozen snapshot is handed out as is, not copied again.
    expect(new Set(fromLocal.map((r) => r.user)).size).toBe(1);
  });

  it('racing first logins still share one slow path: exactly one created, one row, one upsert', async () => {
    const store = createMemoryStore();
    const upsert = vi.spyOn(store, 'upsert');
    const provisioner = uncached(store);
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        provisioner.ensureUserExists({ issuer: ISS, subject: 'first', email: 'f@example.com' }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    expect(upsert).toHaveBeenCalledTimes(1);
  });

  it('racing first logins with different profiles: exactly one created, every caller gets the row', async () => {
    const store = createMemoryStore();
    const provisioner = uncached(store);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        provisioner.ensureUserExists({ issuer: ISS, subject: 'two', name: `Name ${i % 2}` }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
  });

  it('refuses a disabled user and syncs a changed profile on the unflown path', async () => {
    const store = createMemoryStore();
    const provisioner = uncached(store);
    const { user } = await provisioner.ensureUserExists({
      issuer: ISS,
      subject: 'p',
      email: 'old@example.com',
    });
    const changed = await provisioner.ensureUserExists({
      issuer: ISS,
      subject: 'p',
      email: 'new@example.com',
    });
    expect(changed).toMatchObject({ created: false, path: 'fast' });
    expect(changed.user.email).toBe('new@example.com');
    expect(Object.isFrozen(changed.user)).toBe(true);
    expect((await store.lookup({ issuer: ISS, subject: 'p' }))?.email).toBe('new@example.com');
    await store.users.setStatus(user.id, 'disabled');
    await expect(provisioner.ensureUserExists({ issuer: ISS, subject: 'p' })).rejects.toMatchObject({
      code: 'user_disabled',
    });
  });
});
