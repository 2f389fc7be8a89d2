import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it } from 'vitest';
import { InvalidFieldError, RateLimitedError, toHttpResponse } from '../errors';
import { createRateLimiter } from '../internal';
import { type CreateManyResult, createInvitationService } from '../invitations';
import { createProvisioner } from '../provisioning';
import type { UserRecord } from '../types';
import { adminApi } from './api';
import { assertAdminRemains, changeUserKeepingAdmin } from './last-admin';

const SECRET = 'a-32-byte-secret-for-invitations!';

describe('createRateLimiter', () => {
  it('allows a burst per key, then answers the wait until the next token; keys are independent', () => {
    let t = 0;
    const limiter = createRateLimiter({ perSecond: 2, burst: 3, maxKeys: 10, now: () => t });
    expect([1, 2, 3].map(() => limiter.take('a'))).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBeCloseTo(0.5);
    expect(limiter.take('b')).toBe(0);
    t = 500;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
  });

  it('forgets the least recently seen key beyond maxKeys (it starts full again)', () => {
    const limiter = createRateLimiter({ perSecond: 0.001, burst: 1, maxKeys: 2, now: () => 0 });
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
    limiter.take('b');
    limiter.take('c');
    expect(limiter.take('a')).toBe(0);
  });
});

describe('admin errors over HTTP', () => {
  it('422 invalid_field names the field; 429 rate_limited carries Retry-After in whole seconds', () => {
    expect(toHttpResponse(new InvalidFieldError('emails[3]', 'bad'))).toMatchObject({
      status: 422,
      body: { error: 'invalid_field', field: 'emails[3]', error_description: 'bad' },
    });
    expect(toHttpResponse(new RateLimitedError(0.2))).toMatchObject({
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { error: 'rate_limited' },
    });
  });
});

describe('preProvision({ exclusive: true })', () => {
  it('of 20 racing calls exactly one creates; the rest get 409 user_exists and change nothing', async () => {
    const provisioner = createProvisioner({ store: createMemoryStore(), issuers: [] });
    const input = { issuer: 'https://idp.example.com', subject: 'race', role: 'editor' };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        provisioner.preProvision({ ...input, role: i === 0 ? 'editor' : 'admin' }, { exclusive: true }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === 'rejected'))
      expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'user_exists', status: 409 });
    const user = await provisioner.getUser(input);
    expect(user?.role).toBe(
      (outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<UserRecord>).value.role,
    );
  });
});

describe('invitations for the admin API', () => {
  it('create honours expiresInMs; createMany reports each result as it lands', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const invitations = createInvitationService({
      store: createMemoryStore(),
      secret: SECRET,
      now: () => now,
    });
    const { invitation } = await invitations.create({
      email: 'a@x.com',
      invitedBy: 'me',
      expiresInMs: 60_000,
    });
    expect(invitation.expiresAt.getTime()).toBe(now.getTime() + 60_000);
    await expect(
      invitations.create({ email: 'b@x.com', invitedBy: 'me', expiresInMs: 0 }),
    ).rejects.toMatchObject({
      code: 'invalid_request',
    });
    const seen: [number, CreateManyResult['ok']][] = [];
    const list = ['c@x.com', 'bad', 'C@x.com'].map((email) => ({ email, invitedBy: 'me' }));
    await invitations.createMany(list, { perSecond: 1_000, onResult: (r, i) => seen.push([i, r.ok]) });
    expect(seen.sort()).toEqual([
      [0, true],
      [1, false],
      [2, true],
    ]);
  });
});

describe('one queue for the changes that can take the last admin away', () => {
  it('preProvision (Kratos, CLI) and the admin API demoting the two admins at once leave one admin', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store, issuers: [] });
    const issuer = 'https://idp.test';
    await provisioner.preProvision({ issuer, subject: 'a', role: 'admin' });
    const b = await provisioner.preProvision({ issuer, subject: 'b', role: 'admin' });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The admin API's demotion of B holds the queue until released ...
    const viaAdmin = changeUserKeepingAdmin(provisioner, b.id, { role: 'user' }, async (user) => {
      await gate;
      return provisioner.setRole(user.id, 'user');
    });
    // ... while preProvision demotes A. With a queue of its own it counted two admins and passed.
    const viaPreProvision = provisioner.preProvision({ issuer, subject: 'a', role: 'user' });
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
    release();
    const settled = await Promise.allSettled([viaAdmin, viaPreProvision]);
    expect(settled[0]).toMatchObject({ status: 'fulfilled' });
    expect(settled[1]).toMatchObject({ status: 'rejected', reason: { code: 'last_admin' } });
    const admins = await provisioner.listUsers({ role: 'admin', status: 'active', limit: 10 });
    expect(admins.users.map((u) => u.subject)).toEqual(['a']);
  });
});

describe('assertAdminRemains', () => {
  const user = (role: string, status?: string) =>
    ({ id: 'u', role, ...(status ? { status } : {}) }) as unknown as UserRecord;
  const count = (n: number) => async () => n;

  it('refuses demoting, disabling or deleting the last active admin with 409 last_admin', async () => {
    for (const change of [
      { role: 'user' },
      { role: null },
      { status: 'disabled' as const },
      { deleted: true },
    ])
      await expect(assertAdminRemains(user('admin'), change, count(1))).rejects.toMatchObject({
        code: 'last_admin',
        status: 409,
      });
  });

  it('passes with another active admin, for non-admins, disabled admins and harmless changes, without counting when it need not', async () => {
    await assertAdminRemains(user('admin'), { status: 'disabled' }, count(2));
    const never = async () => {
      throw new Error('counted');
    };
    await assertAdminRemains(user('user'), { deleted: true }, never);
    await assertAdminRemains(user('admin', 'disabled'), { deleted: true }, never);
    await assertAdminRemains(user('admin'), { role: 'admin', status: 'active' }, never);
  });
});

describe('adminApi options', () => {
  it('refuses a missing provisioner or invitation service and bad numbers at start-up', () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store, issuers: [] });
    const invitations = createInvitationService({ store, secret: SECRET });
    expect(() => adminApi({ provisioner, invitations: undefined as never })).toThrow(/invitation/);
    expect(() => adminApi({ provisioner: undefined as never, invitations })).toThrow(/provisioner/);
    expect(() => adminApi({ provisioner, invitations, maxBulk: 0 })).toThrow(/maxBulk/);
    expect(() => adminApi({ provisioner, invitations, assignableRoles: '*' as never })).toThrow(
      /assignableRoles/,
    );
    expect(() => adminApi({ provisioner, invitations, peekRateLimit: { ipv6Prefix: 0 } })).toThrow(
      /ipv6Prefix/,
    );
    expect(() => adminApi({ provisioner, invitations, peekRateLimit: { global: { burst: -1 } } })).toThrow(
      /global\.burst/,
    );
  });

  it('every route but peek verifies its caller in `authenticate`, before the body, and takes a body sized for it', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({
      store,
      issuers: [{ issuer: 'https://idp.test', audience: 'a' }],
    });
    const invitations = createInvitationService({ store, secret: SECRET });
    const limits = (maxBulk?: number) =>
      Object.fromEntries(
        adminApi({ provisioner, invitations, ...(maxBulk === undefined ? {} : { maxBulk }) }).routes.map(
          (r) => [`${r.method} ${r.path}`, r.maxBodyBytes],
        ),
      );
    const { routes } = adminApi({ provisioner, invitations });
    for (const route of routes) {
      expect(route.headers, route.path).toEqual({ 'cache-control': 'no-store' });
      if (route.path === '/invitations/peek') {
        expect(route.public).toBe(true);
        expect(route.authenticate).toBeUndefined();
        continue;
      }
      await expect(route.authenticate?.({ headers: {} })).rejects.toMatchObject({ code: 'missing_token' });
      await expect(
        route.authenticate?.({ headers: { authorization: 'Bearer x.y.z' } }),
      ).rejects.toMatchObject({ code: 'invalid_token' });
    }
    const small = Object.entries(limits()).filter(([key]) => key !== 'POST /invitations/bulk');
    for (const [key, bytes] of small) expect(bytes, key).toBe(16_384);
    expect(limits()['POST /invitations/bulk']).toBe(16_384 + 1_000 * 1_024);
    expect(limits(10)['POST /invitations/bulk']).toBe(16_384 + 10 * 1_024);
  });
});

describe('peek rate limit defaults', () => {
  it('40 loopback addresses × 10 peeks: the global bucket lets about 100 through, not 400', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store, issuers: [] });
    const invitations = createInvitationService({ store, secret: SECRET });
    const peek = adminApi({ provisioner, invitations }).routes.find((r) => r.path === '/invitations/peek');
    const since = Date.now();
    let through = 0;
    for (let i = 0; i < 400; i++) {
      const answer = await peek?.handler({
        headers: {},
        query: { token: 'x'.repeat(43) },
        params: {},
        body: undefined,
        ip: `127.0.0.${(i % 40) + 1}`,
      });
      if (answer?.status === 404) through++;
      else expect(answer).toMatchObject({ status: 429, body: { error: 'rate_limited' } });
    }
    // Burst 100, refilled at 5 a second: an upper bound by the limiter's own clock.
    expect(through).toBeGreaterThanOrEqual(100);
    expect(through).toBeLessThanOrEqual(100 + Math.ceil((5 * (Date.now() - since)) / 1000));
  });
});
