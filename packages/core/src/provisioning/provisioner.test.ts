import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import { PolicyRejectedError, StoreUnavailableError } from '../errors';
import type { Logger, Policy, ProvisionedEvent } from '../types';
import { createProvisioner } from './provisioner';

const ISS = 'https://sso.example.com/realms/main';
const quiet = () => ({ warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>() });

describe('ensureUserExists', () => {
  it('creates on the first call (slow), then serves from the cache, then from one lookup when the cache is off', async () => {
    const store = createMemoryStore();
    const lookup = vi.spyOn(store, 'lookup');
    const provisioner = createProvisioner({ store, issuers: [{ issuer: ISS, audience: false }] });
    const first = await provisioner.ensureUserExists({ issuer: ISS, subject: 'u1', email: 'u1@example.com' });
    expect(first).toMatchObject({ created: true, path: 'slow' });
    expect(first.user).toMatchObject({ username: 'oidc:kcl:u1', role: 'user', email: 'u1@example.com' });
    const second = await provisioner.ensureUserExists({
      issuer: ISS,
      subject: 'u1',
      email: 'u1@example.com',
    });
    expect(second).toMatchObject({ created: false, path: 'cache' });
    expect(second.user.id).toBe(first.user.id);
    expect(lookup).toHaveBeenCalledTimes(1);

    const uncached = createProvisioner({ store, userCache: false, tokenCache: false });
    const third = await uncached.ensureUserExists({ issuer: ISS, subject: 'u1' });
    expect(third).toMatchObject({ created: false, path: 'fast' });
    expect(lookup).toHaveBeenCalledTimes(2);
  });

  it('syncs a changed email and name on every login, also past the cache, keeping the same user', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store });
    const { user } = await provisioner.ensureUserExists({
      issuer: ISS,
      subject: 's',
      email: 'old@example.com',
      name: 'Old',
    });
    const again = await provisioner.ensureUserExists({
      issuer: ISS,
      subject: 's',
      email: 'new@example.com',
      name: 'New',
    });
    expect(again).toMatchObject({ created: false, path: 'fast' });
    expect(again.user).toMatchObject({ id: user.id, email: 'new@example.com', name: 'New' });
    expect((await store.lookup({ issuer: ISS, subject: 's' }))?.email).toBe('new@example.com');
    // A token without an email claim does not clear the stored one.
    const noEmail = await provisioner.ensureUserExists({ issuer: ISS, subject: 's' });
    expect(noEmail.user.email).toBe('new@example.com');
  });

  it('never links by email: the same email from another issuer is another user', async () => {
    const provisioner = createProvisioner({ store: createMemoryStore() });
    const a = await provisioner.ensureUserExists({ issuer: ISS, subject: 'x', email: 'same@example.com' });
    const b = await provisioner.ensureUserExists({
      issuer: 'https://accounts.google.com',
      subject: 'x',
      email: 'same@example.com',
    });
    expect(b.created).toBe(true);
    expect(b.user.id).not.toBe(a.user.id);
    expect(b.user.username).toBe('oidc:ggl:x');
  });

  it('100 parallel first logins in one process: one slow path, one created', async () => {
    const store = createMemoryStore();
    const upsert = vi.spyOn(store, 'upsert');
    const provisioner = createProvisioner({ store });
    const results = await Promise.all(
      Array.from({ length: 100 }, () => provisioner.ensureUserExists({ issuer: ISS, subject: 'burst' })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    expect(upsert).toHaveBeenCalledTimes(1);
  });

  it('autoCreate false rejects unknown users with user_not_provisioned and writes nothing', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store, autoCreate: false });
    await expect(provisioner.ensureUserExists({ issuer: ISS, subject: 'nobody' })).rejects.toMatchObject({
      code: 'user_not_provisioned',
      status: 403,
    });
    expect(await store.lookup({ issuer: ISS, subject: 'nobody' })).toBeNull();
    await provisioner.preProvision({ issuer: ISS, subject: 'known', role: 'admin' });
    const known = await provisioner.ensureUserExists({ issuer: ISS, subject: 'known' });
    expect(known.user.role).toBe('admin');
  });

  it.each([
    [{ issuer: '', subject: 'a' }, 'issuer'],
    [{ issuer: ISS, subject: '' }, 'subject'],
    [{ issuer: ISS, subject: 'x'.repeat(256) }, 'subject'],
    [{ issuer: ISS, subject: 'a\u0000b' }, 'subject'],
    [{ issuer: ISS, subject: 'ok', email: `${'e'.repeat(320)}@x.io` }, 'email'],
    [{ issuer: ISS, subject: 'ok', email: 'a\r\nb@x.io' }, 'email'],
    [{ issuer: ISS, subject: 'ok', name: 'bell\u0007' }, 'name'],
    [{ issuer: `${ISS}\uD800`, subject: 'ok' }, 'issuer'],
    [{ issuer: ISS, subject: 'x\uD800' }, 'subject'],
    [{ issuer: ISS, subject: 'x\uDBFF' }, 'subject'],
    [{ issuer: ISS, subject: 'ok', email: 'a\uDC00@x.io' }, 'email'],
    [{ issuer: ISS, subject: 'ok', name: 'Eve \uD83D' }, 'name'],
    [{ issuer: ISS, subject: 'ok', tenantId: 'acme\uDFFF' }, 'tenantId'],
  ])('rejects a bad identity with invalid_identity and writes nothing (%#)', async (identity, field) => {
    const store = createMemoryStore();
    const upsert = vi.spyOn(store, 'upsert');
    const provisioner = createProvisioner({ store });
    await expect(provisioner.ensureUserExists(identity)).rejects.toMatchObject({
      code: 'invalid_identity',
      status: 400,
      field,
    });
    expect(upsert).not.toHaveBeenCalled();
  });

  it('stores SQL-looking and unicode subjects verbatim', async () => {
    const provisioner = createProvisioner({ store: createMemoryStore() });
    const subject = "'; DROP TABLE users; -- ünï";
    const { user } = await provisioner.ensureUserExists({ issuer: ISS, subject });
    expect(user.subject).toBe(subject);
  });
});

describe('hooks', () => {
  it('run once per created user, never for returning users or race losers', async () => {
    const seen: ProvisionedEvent[] = [];
    const store = createMemoryStore();
    const provisioners = Array.from({ length: 3 }, () =>
      createProvisioner({
        store,
        userCache: false,
        tokenCache: false,
        onProvisioned: [(e) => void seen.push(e)],
      }),
    );
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        provisioners[i % 3]?.ensureUserExists({ issuer: ISS, subject: 'hooked' }),
      ),
    );
    await provisioners[0]?.ensureUserExists({ issuer: ISS, subject: 'hooked' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.user.subject).toBe('hooked');
    expect(seen[0]?.eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a throwing hook is reported, the user stays created and the other hooks still run', async () => {
    const logger = quiet();
    const other = vi.fn();
    const provisioner = createProvisioner({
      store: createMemoryStore(),
      logger,
      onProvisioned: [
        async function failingWelcome() {
          throw new Error('smtp down');
        },
        other,
      ],
    });
    const result = await provisioner.ensureUserExists({ issuer: ISS, subject: 'h' });
    expect(result.created).toBe(true);
    expect(other).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({ hook: 'failingWelcome' }),
      expect.any(String),
    );
  });

  it('a hanging hook delays the request by at most hookTimeoutMs', async () => {
    const logger = quiet();
    const provisioner = createProvisioner({
      store: createMemoryStore(),
      logger,
      hookTimeoutMs: 50,
      onProvisioned: [() => new Promise<void>(() => {})],
    });
    // The hook never settles: an answer at all, with the timeout's warning, is the bound.
    const result = await provisioner.ensureUserExists({ issuer: ISS, subject: 'slow-hook' });
    expect(result.created).toBe(true);
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });
});

describe('policies', () => {
  it('a refusing policy stops creation: no row, no hook, the policy code surfaces', async () => {
    const store = createMemoryStore();
    const hook = vi.fn();
    const refuse: Policy = {
      name: 'refuse',
      beforeCreate: () => {
        throw new PolicyRejectedError('email_domain_not_allowed');
      },
    };
    const provisioner = createProvisioner({ store, policies: [refuse], onProvisioned: [hook] });
    await expect(provisioner.ensureUserExists({ issuer: ISS, subject: 'p' })).rejects.toMatchObject({
      code: 'email_domain_not_allowed',
      status: 403,
    });
    expect(await store.lookup({ issuer: ISS, subject: 'p' })).toBeNull();
    expect(hook).not.toHaveBeenCalled();
  });

  it('runs only on the slow path; its role applies; settle hears the outcome or the error', async () => {
    const store = createMemoryStore();
    const settled: unknown[] = [];
    const beforeCreate = vi.fn(() => ({ role: 'editor', settle: (o: unknown) => void settled.push(o) }));
    const provisioner = createProvisioner({
      store,
      userCache: false,
      tokenCache: false,
      policies: [{ name: 'p', beforeCreate }],
    });
    const first = await provisioner.ensureUserExists({ issuer: ISS, subject: 'pol' });
    expect(first.user.role).toBe('editor');
    await provisioner.ensureUserExists({ issuer: ISS, subject: 'pol' });
    expect(beforeCreate).toHaveBeenCalledTimes(1);
    expect(settled).toEqual([{ user: first.user, created: true }]);

    vi.spyOn(store, 'upsert').mockRejectedValueOnce(new StoreUnavailableError());
    await expect(provisioner.ensureUserExists({ issuer: ISS, subject: 'pol2' })).rejects.toMatchObject({
      code: 'provisioning_unavailable',
    });
    expect(settled[1]).toMatchObject({ error: expect.any(StoreUnavailableError) });
  });
});

describe('roles and admin', () => {
  it('defaultRole applies; preProvision sets a role before first login; setRole invalidates the cache', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store, defaultRole: 'member' });
    const { user } = await provisioner.ensureUserExists({ issuer: ISS, subject: 'r' });
    expect(user.role).toBe('member');
    await provisioner.setRole(user.id, 'admin');
    const after = await provisioner.ensureUserExists({ issuer: ISS, subject: 'r' });
    expect(after.path).toBe('fast');
    expect(after.user.role).toBe('admin');

    const pre = await provisioner.preProvision({
      issuer: ISS,
      subject: 'boss',
      email: 'b@example.com',
      role: 'owner',
    });
    const login = await provisioner.ensureUserExists({ issuer: ISS, subject: 'boss' });
    expect(login).toMatchObject({ created: false });
    expect(login.user).toMatchObject({ id: pre.id, role: 'owner' });
    await expect(provisioner.setRole('missing', 'admin')).rejects.toMatchObject({
      code: 'user_not_found',
      status: 404,
    });
    await expect(provisioner.setRole(user.id, 'bad role!')).rejects.toMatchObject({
      code: 'invalid_identity',
    });
  });

  it('invalidate drops a cache entry by id or by key', async () => {
    const store = createMemoryStore();
    const lookup = vi.spyOn(store, 'lookup');
    const provisioner = createProvisioner({ store });
    const { user } = await provisioner.ensureUserExists({ issuer: ISS, subject: 'inv' });
    provisioner.invalidate(user.id);
    expect((await provisioner.ensureUserExists({ issuer: ISS, subject: 'inv' })).path).toBe('fast');
    provisioner.invalidate({ issuer: ISS, subject: 'inv' });
    expect((await provisioner.ensureUserExists({ issuer: ISS, subject: 'inv' })).path).toBe('fast');
    expect(lookup).toHaveBeenCalledTimes(3);
  });
});

describe('configuration', () => {
  it.each([
    [
      {
        issuers: [
          { issuer: 'https://a.example.com/realms/x' },
          { issuer: 'https://b.example.com', prefix: 'kcl' },
        ],
      },
    ],
    [
      {
        issuers: [
          { issuer: 'https://a.example.com', prefix: 'same' },
          { issuer: 'https://b.example.com', prefix: 'same' },
        ],
      },
    ],
    [{ issuers: [{ issuer: 'https://a.example.com', prefix: 'Bad Prefix' }] }],
    [{ defaultRole: '' }],
    [{ reservation: { leaseMs: -1 } }],
  ])('refuses bad options at start-up with configuration_error (%#)', (extra) => {
    expect(() => createProvisioner({ store: createMemoryStore(), ...extra })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
  });
});

describe('store parts and reads', () => {
  it('createUser mode on a store without reservations is a configuration error at start-up', () => {
    const { reservations: _dropped, ...store } = createMemoryStore();
    expect(() => createProvisioner({ store, createUser: async () => 'app-1' })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    // Upsert mode never needs them.
    expect(() => createProvisioner({ store })).not.toThrow();
  });

  it('getUser reads by id or by (issuer, subject), past the cache, and answers null for an unknown user', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store });
    const { user } = await provisioner.ensureUserExists({ issuer: ISS, subject: 'reader' });
    await store.setRole(user.id, 'admin'); // straight to the store
    expect(await provisioner.getUser(user.id)).toMatchObject({ id: user.id, role: 'admin' });
    expect(await provisioner.getUser({ issuer: ISS, subject: 'reader' })).toMatchObject({ id: user.id });
    expect(await provisioner.getUser('no-such-id')).toBeNull();
    expect(await provisioner.getUser({ issuer: ISS, subject: 'nobody' })).toBeNull();
  });

  it('does not expose its options', () => {
    expect('options' in createProvisioner({ store: createMemoryStore() })).toBe(false);
  });
});
