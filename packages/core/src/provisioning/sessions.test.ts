import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import type { UserChangeFeed, UserChangeStatus } from '../store';
import { createProvisioner } from './provisioner';
import { createSessionRevocations } from './sessions';

const ISS = 'https://idp.test';
const later = () => new Date(Date.now() + 60_000);
const quiet = () => ({ warn: vi.fn(), error: vi.fn() });

/** The memory store's feed with a switch: `set('down')` reports down to the subscribers, `set('up')` up. */
function switchable(feed: UserChangeFeed) {
  const statuses = new Set<(s: UserChangeStatus) => void>();
  const wrapped: UserChangeFeed = {
    subscribe: (listener, options = {}) => {
      if (options.onStatus) statuses.add(options.onStatus);
      return feed.subscribe(listener, options);
    },
  };
  const set = (status: UserChangeStatus) => {
    for (const report of statuses) report(status);
  };
  return { feed: wrapped, set };
}

const until = async (check: () => boolean) => {
  for (let deadline = Date.now() + 5_000; !check(); await new Promise((r) => setTimeout(r, 5)))
    if (Date.now() > deadline) throw new Error('timed out');
};

describe('session revocations', () => {
  it('answered in memory while the feed is up (loaded at up, then pushed); by the store while it is down', async () => {
    const store = createMemoryStore();
    await store.logout.revokeSid(ISS, 'before', later());
    const { feed, set } = switchable(store.changes);
    const sessions = createSessionRevocations(store.logout, feed, quiet());
    await until(() => sessions.check(ISS, 'before') !== undefined);
    expect(sessions.check(ISS, 'before')).toBe(true);
    expect(sessions.check(ISS, 'never')).toBe(false);
    // another process revoked it: pushed by the feed
    await store.logout.revokeSid(ISS, 'pushed', later());
    expect(sessions.check(ISS, 'pushed')).toBe(true);
    set('down');
    expect(sessions.check(ISS, 'before')).toBeUndefined();
    const read = vi.spyOn(store.logout, 'isSidRevoked');
    expect(await sessions.isRevoked(ISS, 'pushed')).toBe(true);
    expect(await sessions.isRevoked(ISS, 'never')).toBe(false);
    expect(read).toHaveBeenCalledTimes(2);
    set('up');
    await until(() => sessions.check(ISS, 'pushed') !== undefined);
    expect(sessions.check(ISS, 'pushed')).toBe(true);
    await sessions.close();
  });

  it('without a feed, or with more revoked sessions than the bound, the store answers', async () => {
    const store = createMemoryStore();
    const alone = createSessionRevocations(store.logout, undefined, quiet());
    await store.logout.revokeSid(ISS, 'x', later());
    expect(alone.check(ISS, 'x')).toBeUndefined();
    expect(await alone.isRevoked(ISS, 'x')).toBe(true);
    const bounded = createSessionRevocations(store.logout, store.changes, quiet(), 2);
    await until(() => bounded.check(ISS, 'x') !== undefined);
    for (const sid of ['a', 'b', 'c']) await store.logout.revokeSid(ISS, sid, later());
    expect(bounded.check(ISS, 'a')).toBeUndefined();
    expect(await bounded.isRevoked(ISS, 'c')).toBe(true);
    await bounded.close();
  });
});

describe('backchannelLogout needs a store that can record logout tokens', () => {
  it('an issuer with backchannelLogout on a store without the logout part is refused at start-up', () => {
    const { logout: _logout, ...withoutLogout } = createMemoryStore();
    const issuers = [{ issuer: 'https://idp.test', audience: 'api', backchannelLogout: { clientId: 'app' } }];
    expect(() => createProvisioner({ store: withoutLogout, issuers })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    // Without backchannelLogout, such a store is fine.
    expect(() =>
      createProvisioner({ store: withoutLogout, issuers: [{ issuer: 'https://idp.test', audience: 'api' }] }),
    ).not.toThrow();
  });
});
