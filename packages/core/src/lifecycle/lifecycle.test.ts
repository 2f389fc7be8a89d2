import { createMemoryStore } from '@jit-provision/store-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProvisioner } from '../provisioning';
import type { Store } from '../store';
import type { Logger, UserEvent } from '../types';

const ISS = 'https://sso.example.com/realms/main';
const quiet = () => ({ warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>() });
const id = (subject: string) => ({ issuer: ISS, subject });

/** A provisioner on a fresh memory store whose `onUserEvent` hook records every event, per delivery mode. */
function recorded(hookDelivery: 'inline' | 'outbox') {
  const events: UserEvent[] = [];
  const store = createMemoryStore();
  const provisioner = createProvisioner({ store, hookDelivery, onUserEvent: [(e) => void events.push(e)] });
  return { events, store, provisioner };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('disabled users on the request path', () => {
  it('refused with user_disabled on the cache, fast and slow paths; nothing synced', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store, logger: quiet() });
    const { user } = await provisioner.ensureUserExists({ ...id('d'), email: 'a@example.com' });
    await provisioner.disable(user.id);
    // fast path (the entry was dropped by disable), then cache hit (the disabled row is cached)
    const lookup = vi.spyOn(store, 'lookup');
    for (let i = 0; i < 3; i++)
      await expect(provisioner.ensureUserExists(id('d'))).rejects.toMatchObject({
        code: 'user_disabled',
        status: 403,
      });
    expect(lookup).toHaveBeenCalledTimes(1);
    // a changed email would be synced on the fast path: a disabled user's is not
    await expect(provisioner.ensureUserExists({ ...id('d'), email: 'b@example.com' })).rejects.toMatchObject({
      code: 'user_disabled',
    });
    expect((await store.lookup(id('d')))?.email).toBe('a@example.com');
    // another process (cache off) refuses too
    const other = createProvisioner({ store, userCache: false });
    await expect(other.ensureUserExists(id('d'))).rejects.toMatchObject({ code: 'user_disabled' });
  });

  it('a store read that began before disable() does not put the active row back into the cache', async () => {
    const memory = createMemoryStore();
    const provisioner0 = createProvisioner({ store: memory, logger: quiet() });
    const { user } = await provisioner0.ensureUserExists(id('race'));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reads = 0;
    const store: Store = {
      ...memory,
      users: memory.users,
      // Reads the row now, answers later: a slow replica, or a request in flight during the admin call.
      lookup: async (key) => {
        const row = await memory.lookup(key);
        reads += 1;
        if (reads === 1) await gate;
        return row;
      },
    };
    const provisioner = createProvisioner({ store, logger: quiet() });
    const inFlight = provisioner.ensureUserExists(id('race'));
    await vi.waitFor(() => expect(reads).toBe(1));
    await provisioner.disable(user.id);
    release();
    // It started before the disable: it may pass, but must not be remembered.
    expect((await inFlight).user.status).toBe('active');
    await expect(provisioner.ensureUserExists(id('race'))).rejects.toMatchObject({ code: 'user_disabled' });
  });
});

describe('lastSeenAt', () => {
  it('written at most once per interval per user, on cache hits too, and not at all with lastSeen: false', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createMemoryStore();
    const touch = vi.spyOn(store.users, 'touchLastSeen');
    const provisioner = createProvisioner({ store, lastSeen: { intervalMs: 60_000 } });
    for (let i = 0; i < 20; i++) await provisioner.ensureUserExists(id('seen'));
    await vi.waitFor(() => expect(touch).toHaveBeenCalledTimes(1));
    vi.advanceTimersByTime(59_000);
    for (let i = 0; i < 5; i++) await provisioner.ensureUserExists(id('seen'));
    vi.advanceTimersByTime(1_000);
    await provisioner.ensureUserExists(id('seen'));
    await vi.waitFor(() => expect(touch).toHaveBeenCalledTimes(2));
    expect((await store.lookup(id('seen')))?.lastSeenAt).toBeInstanceOf(Date);

    const off = createProvisioner({ store, lastSeen: false });
    vi.advanceTimersByTime(120_000);
    await off.ensureUserExists(id('seen'));
    await off.ensureUserExists(id('other'));
    await Promise.resolve();
    expect(touch).toHaveBeenCalledTimes(2);
  });

  it('a fresh lastSeenAt in the row is trusted: another process does not write it again', async () => {
    const store = createMemoryStore();
    const a = createProvisioner({ store });
    await a.ensureUserExists(id('fresh'));
    const touch = vi.spyOn(store.users, 'touchLastSeen');
    await vi.waitFor(async () => expect((await store.lookup(id('fresh')))?.lastSeenAt).not.toBeNull());
    const b = createProvisioner({ store });
    await b.ensureUserExists(id('fresh'));
    await Promise.resolve();
    expect(touch).not.toHaveBeenCalled();
  });

  it('the request never waits for the write; failures are logged once per streak and ignored', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createMemoryStore();
    let hang = true;
    vi.spyOn(store.users, 'touchLastSeen').mockImplementation(() =>
      hang ? new Promise<void>(() => {}) : Promise.reject(new Error('db down')),
    );
    const logger = quiet();
    const provisioner = createProvisioner({ store, logger, lastSeen: { intervalMs: 1_000 } });
    // A write that never settles does not hold the request.
    await expect(provisioner.ensureUserExists(id('slow'))).resolves.toMatchObject({ created: true });
    hang = false;
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(1_000);
      await expect(provisioner.ensureUserExists(id('slow'))).resolves.toMatchObject({ created: false });
    }
    await vi.waitFor(() => expect(store.users.touchLastSeen).toHaveBeenCalledTimes(6));
    await Promise.resolve();
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });
});

describe('admin operations', () => {
  it('need a store with `users`: configuration_error, nothing written', async () => {
    const { users: _users, ...rest } = createMemoryStore();
    const store: Store = rest;
    const provisioner = createProvisioner({ store });
    const { user } = await provisioner.ensureUserExists(id('bare'));
    for (const call of [
      () => provisioner.disable(user.id),
      () => provisioner.enable(user.id),
      () => provisioner.deleteUser(user.id),
      () => provisioner.revokeSessions(user.id),
      () => provisioner.listUsers(),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'configuration_error' });
    }
    // setRole works on every store; its event is then delivered inline.
    expect((await provisioner.setRole(user.id, 'admin')).role).toBe('admin');
    expect((await store.getUser(user.id))?.status).toBe('active');
  });

  it('setRole by (issuer, subject); null → defaultRole; a bad role or ref writes nothing', async () => {
    const store = createMemoryStore();
    const events: UserEvent[] = [];
    const provisioner = createProvisioner({
      store,
      defaultRole: 'member',
      onUserEvent: [(e) => void events.push(e)],
    });
    const { user } = await provisioner.ensureUserExists(id('role'));
    expect((await provisioner.setRole(id('role'), 'admin', { actor: 'root' })).role).toBe('admin');
    expect((await provisioner.setRole(user.id, null)).role).toBe('member');
    await expect(provisioner.setRole(user.id, 'bad role!')).rejects.toMatchObject({
      code: 'invalid_identity',
    });
    await expect(provisioner.setRole(id('nobody'), 'admin')).rejects.toMatchObject({
      code: 'user_not_found',
    });
    await expect(provisioner.setRole(user.id, 'admin', { actor: 'x\u0000' })).rejects.toMatchObject({
      code: 'invalid_field',
    });
    await expect(provisioner.disable(42 as never)).rejects.toMatchObject({ code: 'invalid_field' });
    expect((await store.getUser(user.id))?.role).toBe('member');
    expect(events.filter((e) => e.type === 'user.role_changed').map((e) => e.data)).toEqual([
      { from: 'member', to: 'admin', source: 'local' },
      { from: 'admin', to: 'member', source: 'default' },
    ]);
  });

  it('listUsers: limit defaults to 50, is capped at 500; bad arguments are invalid_field', async () => {
    const store = createMemoryStore();
    const list = vi.spyOn(store.users, 'list');
    const provisioner = createProvisioner({ store });
    await provisioner.listUsers();
    await provisioner.listUsers({ limit: 10_000 });
    expect(list.mock.calls.map(([q]) => q.limit)).toEqual([50, 500]);
    for (const bad of [
      { limit: 0 },
      { limit: 1.5 },
      { status: 'banned' },
      { role: 'a b' },
      { seenBefore: new Date(Number.NaN) },
      { query: 'x'.repeat(257) },
    ]) {
      await expect(provisioner.listUsers(bad as never)).rejects.toMatchObject({ code: 'invalid_field' });
    }
    expect(list).toHaveBeenCalledTimes(2);
  });

  it('every change drops the cached row at once', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store });
    const { user } = await provisioner.ensureUserExists(id('cached'));
    await provisioner.revokeSessions(user.id);
    expect((await provisioner.ensureUserExists(id('cached'))).user.tokensValidAfter).toBeInstanceOf(Date);
    await provisioner.setRole(user.id, 'admin');
    expect((await provisioner.ensureUserExists(id('cached'))).user.role).toBe('admin');
    await provisioner.deleteUser(user.id);
    const again = await provisioner.ensureUserExists(id('cached'));
    expect(again).toMatchObject({ created: true, path: 'slow' });
    await expect(provisioner.deleteUser(user.id)).rejects.toMatchObject({ code: 'user_not_found' });
  });

  it('onProvisioned and onUserEvent both see a first login, with one eventId', async () => {
    const provisioned: string[] = [];
    const events: UserEvent[] = [];
    const provisioner = createProvisioner({
      store: createMemoryStore(),
      onProvisioned: [({ eventId }) => void provisioned.push(eventId)],
      onUserEvent: [(e) => void events.push(e)],
    });
    const { user } = await provisioner.ensureUserExists(id('both'));
    await provisioner.ensureUserExists(id('both'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'user.provisioned', userId: user.id, actor: null });
    expect(provisioned).toEqual([events[0]?.eventId]);
  });

  it('preProvision names its actor on user.provisioned, inline and through the outbox; a bad actor writes nothing', async () => {
    for (const hookDelivery of ['inline', 'outbox'] as const) {
      const { events, store, provisioner } = recorded(hookDelivery);
      const user = await provisioner.preProvision(id(`pre-${hookDelivery}`), { actor: 'admin-7' });
      await expect(provisioner.preProvision(id('bad-actor'), { actor: '' })).rejects.toMatchObject({
        code: 'invalid_field',
        field: 'actor',
      });
      expect(await store.lookup(id('bad-actor'))).toBeNull();
      const deadline = Date.now() + 10_000;
      while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(events, hookDelivery).toMatchObject([
        { type: 'user.provisioned', userId: user.id, actor: 'admin-7' },
      ]);
      await provisioner.close();
    }
  });
});

describe('preProvision on an existing user: the role goes through setRole', () => {
  /** Wait for `events` to hold `n` items (outbox delivery is asynchronous), with a generous deadline. */
  async function eventsArrive(events: unknown[], n: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (events.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  it('emits user.role_changed with its actor, inline and through the outbox, and writes a local role', async () => {
    for (const hookDelivery of ['inline', 'outbox'] as const) {
      const { events, store, provisioner } = recorded(hookDelivery);
      const { user } = await provisioner.ensureUserExists(id('promoted'));
      const promoted = await provisioner.preProvision(
        { ...id('promoted'), role: 'editor' },
        { actor: 'admin-1' },
      );
      expect(promoted).toMatchObject({ id: user.id, role: 'editor', roleSource: 'local' });
      // The same role again changes nothing and emits nothing.
      await provisioner.preProvision({ ...id('promoted'), role: 'editor' }, { actor: 'admin-1' });
      await eventsArrive(events, 2);
      expect(
        events.map((e) => [e.type, e.actor, e.data]),
        hookDelivery,
      ).toEqual([
        ['user.provisioned', null, undefined],
        ['user.role_changed', 'admin-1', { from: 'user', to: 'editor', source: 'local' }],
      ]);
      if (hookDelivery === 'outbox') {
        const written = await store.outbox.list({ userIds: [user.id] });
        expect(written.map((e) => e.type)).toEqual(['user.provisioned', 'user.role_changed']);
      }
      await provisioner.close();
    }
  });

  it('refuses to demote the only active admin (409 last_admin), inline and outbox; with a second admin it passes', async () => {
    for (const hookDelivery of ['inline', 'outbox'] as const) {
      const { events, provisioner } = recorded(hookDelivery);
      const only = await provisioner.preProvision({ ...id('only-admin'), role: 'admin' });
      await eventsArrive(events, 1);
      await expect(provisioner.preProvision({ ...id('only-admin'), role: 'user' })).rejects.toMatchObject({
        code: 'last_admin',
        status: 409,
      });
      expect(await provisioner.getUser(only.id)).toMatchObject({ role: 'admin' });
      // Many at once, for two admins: one demotion passes, never both.
      await provisioner.preProvision({ ...id('second-admin'), role: 'admin' });
      const outcomes = await Promise.allSettled(
        ['only-admin', 'second-admin'].map((s) => provisioner.preProvision({ ...id(s), role: 'user' })),
      );
      expect(outcomes.map((o) => o.status).sort(), hookDelivery).toEqual(['fulfilled', 'rejected']);
      const { users } = await provisioner.listUsers({ role: 'admin', status: 'active' });
      expect(users).toHaveLength(1);
      await eventsArrive(events, 3);
      expect(events.filter((e) => e.type === 'user.role_changed')).toHaveLength(1);
      await provisioner.close();
    }
  });
});
