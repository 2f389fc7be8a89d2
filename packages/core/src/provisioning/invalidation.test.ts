import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import type { UserChange, UserChangeFeed, UserChangeStatus } from '../store';
import type { Logger } from '../types';
import { createProvisioner } from './provisioner';

const ISS = 'https://sso.example.com/realms/main';
const quiet = () => ({ warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>() });

/** A feed the test drives: it reports what the test says, when the test says. */
function drivenFeed() {
  let listener: ((change: UserChange) => void) | undefined;
  let onStatus: ((status: UserChangeStatus) => void) | undefined;
  let resolveSubscribe: (() => void) | undefined;
  const unsubscribed = vi.fn(async () => {});
  const feed: UserChangeFeed = {
    subscribe: (l, options) => {
      listener = l;
      onStatus = options?.onStatus;
      return new Promise((resolve) => {
        resolveSubscribe = () => resolve(unsubscribed);
      });
    },
  };
  return {
    feed,
    unsubscribed,
    established: () => resolveSubscribe?.(),
    status: (s: UserChangeStatus) => onStatus?.(s),
    change: (c: UserChange) => listener?.(c),
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('cross-instance invalidation (store.changes)', () => {
  it('a change written straight to the store (as another process would) drops the cached user at once', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store });
    const identity = { issuer: ISS, subject: 'promoted' };
    const { user } = await provisioner.ensureUserExists(identity);
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'cache' });

    await store.setRole(user.id, 'admin');
    const next = await provisioner.ensureUserExists(identity);
    expect(next).toMatchObject({ path: 'fast', user: { role: 'admin' } });
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'cache' });
    await provisioner.close();
  });

  it('bypasses the cache until the feed is established, while it is down, and after close()', async () => {
    const driven = drivenFeed();
    const store = { ...createMemoryStore(), changes: driven.feed };
    const logger = quiet();
    const provisioner = createProvisioner({ store, logger });
    const identity = { issuer: ISS, subject: 'outage' };
    const { user } = await provisioner.ensureUserExists(identity);
    // Not established yet: every call reads the store.
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'fast' });

    driven.established();
    await flush();
    await provisioner.ensureUserExists(identity);
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'cache' });

    driven.status('down');
    await store.setRole(user.id, 'admin'); // missed: the feed is down
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({
      path: 'fast',
      user: { role: 'admin' },
    });
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'fast' });
    expect(logger.warn).toHaveBeenCalled();

    driven.status('up');
    await provisioner.ensureUserExists(identity);
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'cache' });

    // A reported change drops the entry by id alone, or by key alone.
    driven.change({ userId: user.id, issuer: 'elsewhere', subject: 'x' });
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'fast' });
    driven.change({ userId: 'unknown', issuer: ISS, subject: 'outage' });
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'fast' });

    await provisioner.close();
    expect(driven.unsubscribed).toHaveBeenCalledTimes(1);
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'fast' });
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'fast' });
    await provisioner.close();
    expect(driven.unsubscribed).toHaveBeenCalledTimes(1);
  });

  it('a feed that cannot subscribe is logged, and the cache stays bypassed; createProvisioner still returns at once', async () => {
    const store = {
      ...createMemoryStore(),
      changes: { subscribe: () => Promise.reject(new Error('no listener connection')) },
    };
    const logger = quiet();
    const provisioner = createProvisioner({ store, logger });
    const identity = { issuer: ISS, subject: 'no-feed' };
    await provisioner.ensureUserExists(identity);
    await flush();
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({ path: 'fast' });
    expect(logger.error).toHaveBeenCalledTimes(1);
    await provisioner.close();
  });

  it('a row read while a change is reported is not cached (it may predate the change)', async () => {
    const inner = createMemoryStore();
    let gate: Promise<void> | undefined;
    const store = {
      ...inner,
      lookup: async (key: { issuer: string; subject: string }) => {
        const row = await inner.lookup(key);
        await gate;
        return row;
      },
    };
    const provisioner = createProvisioner({ store });
    const identity = { issuer: ISS, subject: 'racing' };
    const { user } = await provisioner.ensureUserExists(identity);
    provisioner.invalidate(user.id);

    let open: () => void = () => {};
    gate = new Promise((resolve) => {
      open = resolve;
    });
    const reading = provisioner.ensureUserExists(identity); // reads role 'user', then waits
    await flush();
    await inner.setRole(user.id, 'admin'); // reported while the read is in flight
    open();
    expect(await reading).toMatchObject({ path: 'fast', user: { role: 'user' } });
    gate = undefined;
    expect(await provisioner.ensureUserExists(identity)).toMatchObject({
      path: 'fast',
      user: { role: 'admin' },
    });
    await provisioner.close();
  });
});
