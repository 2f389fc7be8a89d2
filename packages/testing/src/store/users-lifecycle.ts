import type { NewUser, Store, UserEvent, UserLifecycleStore, UserRecord } from '@jit-provision/core';
import { createOutboxDispatcher, createProvisioner } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conformanceUser, freshKey, type StoreConformanceOptions } from './options';

const quiet = { warn: () => {}, error: () => {} };

/** A marker only this case's rows carry (lower-case letters and digits), so listings work on a shared table. */
const marker = () => `m${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;

/** The setup every group of the `users lifecycle` cases shares: a fresh store per case, and its helpers. */
function lifecycleContext<S extends Store>(options: StoreConformanceOptions<S>) {
  let store: S;
  let users: UserLifecycleStore;
  beforeEach(async (context) => {
    store = await options.createStore();
    if (store.users === undefined) {
      context.skip('this store has no users part');
      return;
    }
    users = store.users;
  });
  afterEach(async () => {
    await options.cleanup?.(store);
  });

  const create = async (extra: Partial<NewUser> = {}, key = freshKey('life')) =>
    (await store.upsert(conformanceUser(key, extra))).user;
  /** Every page of a listing, following `nextCursor`. */
  const listAll = async (query: Parameters<UserLifecycleStore['list']>[0]) => {
    const seen: UserRecord[] = [];
    let cursor: string | undefined = query.cursor;
    for (let pages = 0; pages < 1_000; pages++) {
      const page = await users.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.users.length).toBeLessThanOrEqual(query.limit);
      seen.push(...page.users);
      if (page.nextCursor === null) return seen;
      cursor = page.nextCursor;
    }
    throw new Error('listing never ended');
  };
  return {
    get store() {
      return store;
    },
    get users() {
      return users;
    },
    create,
    listAll,
  };
}

type LifecycleContext<S extends Store> = ReturnType<typeof lifecycleContext<S>>;

/** Status, role and session revocation round trips; unknown ids. */
function statusAndRoleCases<S extends Store>(cases: LifecycleContext<S>): void {
  const { create } = cases;
  it('a new user is active, never revoked, never seen', async () => {
    const { store } = cases;
    const user = await create();
    expect(user).toMatchObject({
      status: 'active',
      disabledAt: null,
      tokensValidAfter: null,
      lastSeenAt: null,
    });
    expect(await store.lookup(user)).toMatchObject({ status: 'active', disabledAt: null });
  });

  it('status round trip: disable (idempotent, disabledAt kept), then enable clears disabledAt', async () => {
    const { store, users } = cases;
    const user = await create();
    const disabled = await users.setStatus(user.id, 'disabled');
    expect(disabled.changed).toBe(true);
    expect(disabled.user.status).toBe('disabled');
    expect(disabled.user.disabledAt).toBeInstanceOf(Date);
    expect(await store.lookup(user)).toMatchObject({
      status: 'disabled',
      disabledAt: disabled.user.disabledAt,
    });
    expect(await store.getUser(user.id)).toMatchObject({ status: 'disabled' });

    const again = await users.setStatus(user.id, 'disabled');
    expect(again.changed).toBe(false);
    // Nothing written: not even updatedAt moves.
    expect(again.user.disabledAt).toEqual(disabled.user.disabledAt);
    expect(again.user.updatedAt).toEqual(disabled.user.updatedAt);

    const enabled = await users.setStatus(user.id, 'active');
    expect(enabled).toMatchObject({ changed: true, user: { status: 'active', disabledAt: null } });
    expect((await users.setStatus(user.id, 'active')).changed).toBe(false);
  });

  it('setRole answers the replaced role and whether it changed', async () => {
    const { store, users } = cases;
    const user = await create();
    expect(await users.setRole(user.id, 'admin')).toMatchObject({
      from: 'user',
      changed: true,
      user: { role: 'admin' },
    });
    expect(await users.setRole(user.id, 'admin')).toMatchObject({ from: 'admin', changed: false });
    expect((await store.getUser(user.id))?.role).toBe('admin');
  });

  it('roleSource round trip: created as given (default when absent), set by setRole, read back', async () => {
    const { store, users } = cases;
    expect((await create()).roleSource).toBe('default');
    const provider = await create({ role: 'editor', roleSource: 'provider' });
    expect(provider).toMatchObject({ role: 'editor', roleSource: 'provider' });
    expect((await store.lookup(provider))?.roleSource).toBe('provider');
    // Same role, new source: written, but not a role change.
    expect(await users.setRole(provider.id, 'editor')).toMatchObject({
      changed: false,
      user: { role: 'editor', roleSource: 'local' },
    });
    expect((await store.getUser(provider.id))?.roleSource).toBe('local');
    expect((await store.setRole(provider.id, 'user', 'default')).roleSource).toBe('default');
    expect(await store.lookup(provider)).toMatchObject({ role: 'user', roleSource: 'default' });
  });

  it('setRole with keepLocal never overwrites a local role; otherwise it sets the provider role once', async () => {
    const { store, users } = cases;
    const user = await create();
    const sync = { source: 'provider', keepLocal: true } as const;
    expect(await users.setRole(user.id, 'editor', sync)).toMatchObject({
      from: 'user',
      changed: true,
      user: { role: 'editor', roleSource: 'provider' },
    });
    expect(await users.setRole(user.id, 'editor', sync)).toMatchObject({ changed: false });
    await users.setRole(user.id, 'admin');
    expect(await users.setRole(user.id, 'viewer', sync)).toMatchObject({
      changed: false,
      user: { role: 'admin', roleSource: 'local' },
    });
    expect(await store.getUser(user.id)).toMatchObject({ role: 'admin', roleSource: 'local' });
    // Handing it back (not keepLocal) makes it the provider's again.
    expect((await users.setRole(user.id, 'admin', { source: 'provider' })).user.roleSource).toBe('provider');
  });

  it('revokeSessions sets tokensValidAfter on the store clock, and again later', async () => {
    const { store, users } = cases;
    const user = await create();
    const before = Date.now();
    const first = await users.revokeSessions(user.id);
    // The store's clock may be another host's: allow a little skew, not a stale or missing value.
    expect(first.tokensValidAfter?.getTime()).toBeGreaterThan(before - 5_000);
    expect((await store.lookup(user))?.tokensValidAfter).toEqual(first.tokensValidAfter);
    const second = await users.revokeSessions(user.id);
    expect(second.tokensValidAfter?.getTime()).toBeGreaterThanOrEqual(first.tokensValidAfter?.getTime() ?? 0);
  });

  it('unknown ids: user_not_found for changes, null for delete; touchLastSeen is a no-op', async () => {
    const { users } = cases;
    const unknown = '00000000-0000-4000-8000-00000000dead';
    await expect(users.setStatus(unknown, 'disabled')).rejects.toMatchObject({ code: 'user_not_found' });
    await expect(users.setRole(unknown, 'admin')).rejects.toMatchObject({ code: 'user_not_found' });
    await expect(users.revokeSessions(unknown)).rejects.toMatchObject({ code: 'user_not_found' });
    expect(await users.delete(unknown)).toBeNull();
    await users.touchLastSeen(unknown);
  });
}

/** Deletion, last-seen and listing: filters, literal query characters, paging under concurrent inserts. */
function deletionAndListingCases<S extends Store>(cases: LifecycleContext<S>): void {
  const { create, listAll } = cases;
  it('delete erases the row; the next login is a new first login with a new id', async () => {
    const { store, users } = cases;
    const provisioner = createProvisioner({ store, userCache: false, lastSeen: false, logger: quiet });
    const key = freshKey('erase');
    const first = await provisioner.ensureUserExists({ ...key, email: 'erase@example.com' });
    expect(first.created).toBe(true);
    const deleted = await users.delete(first.user.id);
    expect(deleted?.id).toBe(first.user.id);
    expect(await store.lookup(key)).toBeNull();
    expect(await store.getUser(first.user.id)).toBeNull();
    expect(await users.delete(first.user.id)).toBeNull();
    const again = await provisioner.ensureUserExists({ ...key, email: 'erase@example.com' });
    expect(again.created).toBe(true);
    expect(again.user.id).not.toBe(first.user.id);
    expect(again.user.status).toBe('active');
  });

  it('touchLastSeen sets lastSeenAt without touching updatedAt; seenBefore finds dormant users', async () => {
    const { store, users } = cases;
    const m = marker();
    const seenUser = await create({ name: `${m} seen` });
    const neverSeen = await create({ name: `${m} never` });
    await users.touchLastSeen(seenUser.id);
    const after = await store.getUser(seenUser.id);
    expect(after?.lastSeenAt).toBeInstanceOf(Date);
    expect(after?.updatedAt).toEqual(seenUser.updatedAt);
    const ids = async (seenBefore: Date) =>
      (await listAll({ query: m, seenBefore, limit: 10 })).map((u) => u.id).sort();
    expect(await ids(new Date(Date.now() - 60_000))).toEqual([]);
    expect(await ids(new Date(Date.now() + 60_000))).toEqual([seenUser.id, neverSeen.id].sort());
  });

  it('list filters by status and role, in (createdAt, id) order', async () => {
    const { users } = cases;
    const m = marker();
    const a = await create({ name: `${m} a` });
    const b = await create({ name: `${m} b`, role: 'admin' });
    const c = await create({ name: `${m} c` });
    await users.setStatus(c.id, 'disabled');
    const all = await listAll({ query: m, limit: 2 });
    expect(all.map((u) => u.id).sort()).toEqual([a.id, b.id, c.id].sort());
    // Creation order, to the millisecond a Date holds: a store may order by a finer clock (Postgres keeps
    // microseconds), so ids only break ties the Date cannot see.
    const times = all.map((u) => u.createdAt.getTime());
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect((await listAll({ query: m, limit: 10, status: 'disabled' })).map((u) => u.id)).toEqual([c.id]);
    expect((await listAll({ query: m, limit: 10, role: 'admin' })).map((u) => u.id)).toEqual([b.id]);
    expect(await listAll({ query: m, limit: 10, role: 'admin', status: 'disabled' })).toEqual([]);
  });

  it('query is case-insensitive over email, name, username and subject, and % _ \\ are literal', async () => {
    const m = marker();
    const percent = await create({ name: `${m} 100%` });
    const underscore = await create({ email: `${m}_x@example.com` });
    const plain = await create({ email: `${m}zx@example.com` });
    const backslash = await create({ name: `${m} a\\b` });
    const bySubject = await create(
      {},
      { issuer: 'https://conformance.jit-provision.test', subject: `${m}-subject` },
    );
    const find = async (query: string) => (await listAll({ query, limit: 50 })).map((u) => u.id).sort();
    expect(await find(m.toUpperCase())).toEqual(
      [percent.id, underscore.id, plain.id, backslash.id, bySubject.id].sort(),
    );
    expect(await find(`${m} 100%`)).toEqual([percent.id]);
    expect(await find(`${m}%`)).toEqual([]);
    expect(await find(`${m}_x`)).toEqual([underscore.id]);
    expect(await find(`${m}_`)).toEqual([underscore.id]);
    expect(await find(`a\\b`)).toContain(backslash.id);
    expect(await find(`${m} a\\b`)).toEqual([backslash.id]);
    expect(await find(`${m}-SUBJECT`)).toEqual([bySubject.id]);
    expect(await find(`oidc:conf:${m}`)).toEqual([bySubject.id]);
  });

  it('paging returns every user exactly once while rows are inserted concurrently', async () => {
    const m = marker();
    const existing = await Promise.all(
      Array.from({ length: 60 }, (_, i) => create({ name: `${m} old ${i}` })),
    );
    let inserting = true;
    const inserted: string[] = [];
    const writer = (async () => {
      while (inserting && inserted.length < 200) {
        const batch = await Promise.all(Array.from({ length: 5 }, () => create({ name: `${m} new` })));
        inserted.push(...batch.map((u) => u.id));
      }
    })();
    let seen: UserRecord[];
    try {
      seen = await listAll({ query: m, limit: 7 });
    } finally {
      inserting = false;
      await writer;
    }
    const ids = seen.map((u) => u.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(existing.map((u) => u.id)));
    const known = new Set([...existing.map((u) => u.id), ...inserted]);
    expect(ids.filter((id) => !known.has(id))).toEqual([]);
  });

  it('a limit larger than the matches gives one page with a null cursor', async () => {
    const { users } = cases;
    const m = marker();
    await create({ name: m });
    const page = await users.list({ query: m, limit: 500 });
    expect(page.users).toHaveLength(1);
    expect(page.nextCursor).toBeNull();
  });
}

/** The provisioner over the store: invalid input refused, one event per change, events in the outbox. */
function provisionerLifecycleCases<S extends Store>(cases: LifecycleContext<S>): void {
  it('provisioner: a malformed cursor and a bad status are invalid_field; nothing is read', async () => {
    const { store } = cases;
    const provisioner = createProvisioner({ store, logger: quiet });
    await expect(provisioner.listUsers({ cursor: 'not-a-cursor' })).rejects.toMatchObject({
      code: 'invalid_field',
    });
    await expect(provisioner.listUsers({ status: 'banned' as never })).rejects.toMatchObject({
      code: 'invalid_field',
    });
    await expect(provisioner.disable('00000000-0000-4000-8000-00000000dead')).rejects.toMatchObject({
      code: 'user_not_found',
      status: 404,
    });
  });

  it('provisioner: disabling twice emits one event; every change one event with actor and data', async () => {
    const { store } = cases;
    const events: UserEvent[] = [];
    const provisioner = createProvisioner({
      store,
      logger: quiet,
      onUserEvent: [(event) => void events.push(event)],
    });
    const { user } = await provisioner.ensureUserExists({ ...freshKey('events') });
    await provisioner.disable(user.id, { reason: 'left', actor: 'admin-1' });
    await provisioner.disable(user, { actor: 'admin-1' });
    await provisioner.enable(user.id);
    await provisioner.setRole(user.id, 'admin', { actor: 'admin-1' });
    await provisioner.setRole(user.id, 'admin');
    await provisioner.setRole(user.id, null);
    await provisioner.revokeSessions(user.id);
    await provisioner.deleteUser(user.id, { actor: 'admin-2' });
    expect(events.map((e) => e.type)).toEqual([
      'user.provisioned',
      'user.disabled',
      'user.enabled',
      'user.role_changed',
      'user.role_changed',
      'user.sessions_revoked',
      'user.deleted',
    ]);
    expect(events[1]).toMatchObject({
      actor: 'admin-1',
      data: { reason: 'left' },
      user: { status: 'disabled' },
    });
    expect(events[3]?.data).toEqual({ from: 'user', to: 'admin', source: 'local' });
    expect(events[4]?.data).toEqual({ from: 'admin', to: 'user', source: 'default' });
    expect(events[6]).toMatchObject({ user: null, actor: 'admin-2', userId: user.id });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
  });

  it('outbox mode: events are written with the change, once, and survive the deletion of their user', async (context) => {
    const { store } = cases;
    if (store.outbox === undefined) {
      context.skip('this store has no outbox');
      return;
    }
    const outbox = store.outbox;
    // No local hooks: the events stay in the outbox for a dispatcher we run ourselves below.
    const provisioner = createProvisioner({ store, hookDelivery: 'outbox', logger: quiet });
    const { user } = await provisioner.ensureUserExists({ ...freshKey('durable') });
    await provisioner.disable(user.id, { reason: 'fraud', actor: 'admin-1' });
    await provisioner.disable(user.id);
    await provisioner.setRole(user.id, 'auditor');
    await provisioner.deleteUser(user.id, { actor: 'admin-2' });
    const written = await outbox.list({ userIds: [user.id], status: 'pending' });
    // As a set: events written within one clock tick (PGlite's clock is coarse) have no defined order.
    const byType = (type: string) => written.find((e) => e.type === type);
    expect(written.map((e) => e.type).sort()).toEqual(
      ['user.deleted', 'user.disabled', 'user.provisioned', 'user.role_changed'].sort(),
    );
    expect(byType('user.disabled')).toMatchObject({ actor: 'admin-1', data: { reason: 'fraud' } });
    expect(byType('user.role_changed')?.data).toEqual({ from: 'user', to: 'auditor', source: 'local' });

    const delivered: UserEvent[] = [];
    const welcomed: string[] = [];
    const dispatcher = createOutboxDispatcher({
      store,
      hooks: [({ eventId }) => void welcomed.push(eventId)],
      userEventHooks: [(event) => void (event.userId === user.id && delivered.push(event))],
      logger: quiet,
    });
    // Other cases' events may be due too; drain until ours are done.
    for (let i = 0; i < 50 && delivered.length < 4; i++) await dispatcher.drain();
    // One batch is delivered concurrently: compare by event id, not arrival order.
    const typeOf = new Map(delivered.map((e) => [e.eventId, e.type]));
    expect(delivered).toHaveLength(4);
    expect(written.map((e) => typeOf.get(e.id))).toEqual(written.map((e) => e.type));
    expect(delivered.every((e) => e.user === null)).toBe(true);
    // The user was gone before delivery: nothing left to welcome.
    expect(welcomed).not.toContain(written[0]?.id);
    expect(await outbox.list({ userIds: [user.id], status: 'done' })).toHaveLength(4);
  });
}

/**
 * Lifecycle and listing cases, run for stores with `users` (skipped otherwise): status round trip and
 * idempotence, role changes, revocation on the store clock, delete then re-login as a new user, keyset paging
 * that returns every user exactly once while rows are inserted concurrently, literal `%` / `_` in queries,
 * dormant users, and lifecycle events written atomically to the outbox (kept when their user is deleted).
 */
export function userLifecycleCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('users lifecycle', () => {
    const cases = lifecycleContext(options);
    statusAndRoleCases(cases);
    deletionAndListingCases(cases);
    provisionerLifecycleCases(cases);
    if (options.keepAdmin !== false) keepAdminCases(cases);
  });
}

/** `keepAdmin`: the last active holder of a role cannot be taken away, even by racing changes. */
function keepAdminCases<S extends Store>(cases: LifecycleContext<S>): void {
  // A role of its own per case: other cases' (and earlier runs') users never count as holders.
  const freshRole = () => `keeper-${Math.random().toString(36).slice(2, 10)}`;
  const holders = async (role: string) =>
    (await cases.listAll({ role, status: 'active', limit: 100 })).map((user) => user.id).sort();

  it('keepAdmin: the only active holder cannot be demoted, disabled or deleted (last_admin); others can', async () => {
    const { users, create } = cases;
    const role = freshRole();
    const only = await create({ role });
    const keep = { keepAdmin: role };
    await expect(users.setRole(only.id, 'user', keep)).rejects.toMatchObject({ code: 'last_admin' });
    await expect(users.setStatus(only.id, 'disabled', keep)).rejects.toMatchObject({ code: 'last_admin' });
    await expect(users.delete(only.id, keep)).rejects.toMatchObject({ code: 'last_admin' });
    expect(await holders(role)).toEqual([only.id]);
    // Changes that keep the role pass, and so does anything done to a non-holder.
    expect((await users.setRole(only.id, role, keep)).changed).toBe(false);
    expect((await users.setStatus(only.id, 'active', keep)).changed).toBe(false);
    const other = await create();
    expect((await users.setStatus(other.id, 'disabled', keep)).changed).toBe(true);
    // With a second holder, one removal passes and leaves the other.
    const second = await create({ role });
    expect((await users.setStatus(only.id, 'disabled', keep)).changed).toBe(true);
    expect(await holders(role)).toEqual([second.id]);
    // Without keepAdmin, nothing is checked.
    expect((await users.setRole(second.id, 'user')).changed).toBe(true);
  });

  it('keepAdmin: racing removals of two holders (demote, disable, delete, many at once) leave exactly one', async () => {
    const { users, create } = cases;
    for (let round = 0; round < 3; round++) {
      const role = freshRole();
      const a = await create({ role });
      const b = await create({ role });
      const keep = { keepAdmin: role };
      const removals = [a, b].flatMap((user) =>
        Array.from({ length: 6 }, (_, i) =>
          i % 3 === 0
            ? users.setRole(user.id, 'user', keep)
            : i % 3 === 1
              ? users.setStatus(user.id, 'disabled', keep)
              : users.delete(user.id, keep),
        ),
      );
      const settled = await Promise.allSettled(removals);
      // A change to a user another removal already deleted is user_not_found; any other refusal is last_admin.
      const codes = settled.flatMap((outcome) =>
        outcome.status === 'rejected' ? [(outcome.reason as { code?: unknown }).code] : [],
      );
      for (const code of codes) expect(['last_admin', 'user_not_found']).toContain(code);
      expect(codes).toContain('last_admin');
      expect(await holders(role)).toHaveLength(1);
    }
  });
}
