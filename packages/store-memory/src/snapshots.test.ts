import { describe, expect, it } from 'vitest';
import { createMemoryStore } from './index';

const ISS = 'https://idp.test';
const key = { issuer: ISS, subject: 's1' };

describe('memory store lookups', () => {
  it('answer a frozen snapshot, the same one until the row changes', async () => {
    const store = createMemoryStore();
    await store.upsert({ ...key, username: 'u1', role: 'user', email: 'a@example.com' });
    const first = await store.lookup(key);
    expect(first).not.toBeNull();
    expect(Object.isFrozen(first)).toBe(true);
    expect(await store.lookup(key)).toBe(first);
  });

  it('cannot be changed through: assigning throws, the stored row and its dates stay as they were', async () => {
    const store = createMemoryStore();
    const { user } = await store.upsert({ ...key, username: 'u1', role: 'user' });
    const found = (await store.lookup(key)) as NonNullable<Awaited<ReturnType<typeof store.lookup>>>;
    expect(() => {
      (found as { role: string }).role = 'admin';
    }).toThrow(TypeError);
    found.createdAt.setTime(0); // Dates cannot be frozen; the snapshot's are its own copies
    const stored = await store.getUser(user.id);
    expect(stored?.role).toBe('user');
    expect(stored?.createdAt.getTime()).toBe(user.createdAt.getTime());
  });

  it('answer the change after every kind of write; earlier snapshots keep what they were', async () => {
    const store = createMemoryStore();
    const { user } = await store.upsert({ ...key, username: 'u1', role: 'user', email: 'a@example.com' });
    const before = await store.lookup(key);
    await store.sync(user.id, { email: 'b@example.com' });
    const synced = await store.lookup(key);
    expect(synced?.email).toBe('b@example.com');
    expect(before?.email).toBe('a@example.com');
    await store.setRole(user.id, 'admin');
    expect((await store.lookup(key))?.role).toBe('admin');
    await store.users.setStatus(user.id, 'disabled');
    expect((await store.lookup(key))?.status).toBe('disabled');
    await store.users.setStatus(user.id, 'active');
    await store.users.revokeSessions(user.id);
    expect((await store.lookup(key))?.tokensValidAfter).toBeInstanceOf(Date);
    await store.users.touchLastSeen(user.id);
    expect((await store.lookup(key))?.lastSeenAt).toBeInstanceOf(Date);
    await store.upsert({ ...key, username: 'u1', role: 'user', name: 'New Name' });
    expect((await store.lookup(key))?.name).toBe('New Name');
    await store.users.delete(user.id);
    expect(await store.lookup(key)).toBeNull();
  });
});
