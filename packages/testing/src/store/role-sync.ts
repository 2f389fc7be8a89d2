import type { Identity, IssuerConfig, Store, UserEvent } from '@jit-provision/core';
import { createProvisioner } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshKey, type StoreConformanceOptions } from './options';

const quiet = { warn: () => {}, error: () => {} };

/** The setup every group of the `roles from claims` cases shares: a fresh store per case, and its helpers. */
function roleSyncContext<S extends Store>(options: StoreConformanceOptions<S>) {
  let store: S;
  beforeEach(async (context) => {
    store = await options.createStore();
    if (store.users === undefined) context.skip('this store has no users part');
  });
  afterEach(async () => {
    await options.cleanup?.(store);
  });

  function setup(sync: 'login' | 'create' = 'login') {
    const key = freshKey('roles');
    const events: UserEvent[] = [];
    const issuer: IssuerConfig = {
      issuer: key.issuer,
      audience: 'api',
      jwksUri: 'https://keys.invalid/jwks',
      roles: {
        claim: 'groups',
        map: { a: 'admin', e: 'editor' },
        allow: ['admin', 'editor', 'user'],
        sync,
      },
    };
    const provisioner = createProvisioner({
      store,
      issuers: [issuer],
      logger: quiet,
      onUserEvent: [(event) => void events.push(event)],
    });
    const login = (providerRole?: string): Identity => ({
      ...key,
      ...(providerRole === undefined ? {} : { providerRole }),
    });
    const roleEvents = () => events.filter((event) => event.type === 'user.role_changed');
    return { key, provisioner, login, events, roleEvents };
  }
  return {
    get store() {
      return store;
    },
    setup,
  };
}

type RoleSyncContext<S extends Store> = ReturnType<typeof roleSyncContext<S>>;

/** Roles from the provider: set at creation, changed on login, a local grant kept, sync create. */
function providerRoleCases<S extends Store>(cases: RoleSyncContext<S>): void {
  const { setup } = cases;
  it('100 parallel first logins with a mapped role create one user with that role, source provider', async () => {
    const { provisioner, login, events } = setup();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => provisioner.ensureUserExists(login('admin'))),
    );
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results[0]?.user).toMatchObject({ role: 'admin', roleSource: 'provider' });
    expect(events.filter((e) => e.type === 'user.role_changed')).toHaveLength(0);
  });

  it('a demotion at the provider takes effect on the next login, past the user cache; one event per change', async () => {
    const { provisioner, login, roleEvents } = setup();
    // A store with a change feed bypasses the cache until the feed is up: wait (bounded) for a cache hit.
    const deadline = Date.now() + 10_000;
    while ((await provisioner.ensureUserExists(login('admin'))).path !== 'cache') {
      if (Date.now() > deadline) throw new Error('the user was never served from the cache');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const demoted = await provisioner.ensureUserExists(login('editor'));
    expect(demoted.path).not.toBe('cache');
    expect(demoted.user).toMatchObject({ role: 'editor', roleSource: 'provider' });
    for (let i = 0; i < 3; i++)
      expect((await provisioner.ensureUserExists(login('editor'))).user.role).toBe('editor');
    expect(roleEvents()).toHaveLength(1);
    expect(roleEvents()[0]).toMatchObject({
      actor: null,
      data: { from: 'admin', to: 'editor', source: 'provider' },
    });
    // A token mapping to nothing (no default) leaves the role alone.
    expect((await provisioner.ensureUserExists(login())).user.role).toBe('editor');
    expect(roleEvents()).toHaveLength(1);
  });

  it('a local grant survives 3 logins with a provider role; setRole(ref, null) hands it back', async () => {
    const { store } = cases;
    const { key, provisioner, login, roleEvents } = setup();
    await provisioner.ensureUserExists(login('editor'));
    await provisioner.setRole(key, 'admin', { actor: 'root' });
    for (let i = 0; i < 3; i++) {
      const { user } = await provisioner.ensureUserExists(login('editor'));
      expect(user).toMatchObject({ role: 'admin', roleSource: 'local' });
    }
    expect((await store.lookup(key))?.role).toBe('admin');
    const handedBack = await provisioner.setRole(key, null);
    expect(handedBack).toMatchObject({ role: 'admin', roleSource: 'provider' });
    expect((await provisioner.ensureUserExists(login('editor'))).user).toMatchObject({
      role: 'editor',
      roleSource: 'provider',
    });
    expect(roleEvents().map((e) => e.data)).toEqual([
      { from: 'editor', to: 'admin', source: 'local' },
      { from: 'admin', to: 'editor', source: 'provider' },
    ]);
  });

  it("sync 'create' sets the role at creation only; setRole(ref, null) then resets to the default", async () => {
    const { key, provisioner, login, roleEvents } = setup('create');
    expect((await provisioner.ensureUserExists(login('admin'))).user).toMatchObject({
      role: 'admin',
      roleSource: 'provider',
    });
    provisioner.invalidate(key);
    expect((await provisioner.ensureUserExists(login('editor'))).user.role).toBe('admin');
    expect(await provisioner.setRole(key, null)).toMatchObject({ role: 'user', roleSource: 'default' });
    expect(roleEvents()).toHaveLength(1);
  });
}

/** A role change in outbox mode written once; a role outside the allow list refused. */
function roleOutboxAndAllowCases<S extends Store>(cases: RoleSyncContext<S>): void {
  const { setup } = cases;
  it('outbox mode: a login’s role change is written once with its change, not per login', async (context) => {
    const { store } = cases;
    const { outbox } = store;
    if (outbox === undefined) {
      context.skip('this store has no outbox');
      return;
    }
    const key = freshKey('roles-outbox');
    const provisioner = createProvisioner({
      store,
      hookDelivery: 'outbox',
      logger: quiet,
      issuers: [
        {
          issuer: key.issuer,
          audience: 'api',
          jwksUri: 'https://keys.invalid/jwks',
          roles: { claim: 'groups', map: { a: 'admin' }, allow: ['admin', 'editor', 'user'] },
        },
      ],
    });
    const { user } = await provisioner.ensureUserExists({ ...key, providerRole: 'admin' });
    for (let i = 0; i < 3; i++) await provisioner.ensureUserExists({ ...key, providerRole: 'editor' });
    const events = (await outbox.list({ userIds: [user.id] })).filter((e) => e.type === 'user.role_changed');
    expect(events.map((e) => [e.actor, e.data])).toEqual([
      [null, { from: 'admin', to: 'editor', source: 'provider' }],
    ]);
    await provisioner.close();
  });

  it('a providerRole outside the issuer’s allow list is refused before anything is written', async () => {
    const { store } = cases;
    const { key, provisioner } = setup();
    await expect(provisioner.ensureUserExists({ ...key, providerRole: 'root' })).rejects.toMatchObject({
      code: 'invalid_identity',
    });
    expect(await store.lookup(key)).toBeNull();
  });
}

/**
 * Roles from the provider's claims on a real store: creation with the mapped role under a race, a local grant
 * that logins never overwrite, a demotion that gets past the user cache, `setRole(ref, null)` handing the role
 * back, and one `user.role_changed` per real change (not per login). Skipped for stores without `users`.
 */
export function roleSyncCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('roles from claims', () => {
    const cases = roleSyncContext(options);
    providerRoleCases(cases);
    roleOutboxAndAllowCases(cases);
  });
}
