import { randomBytes } from 'node:crypto';
import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import { toHttpResponse } from '../errors';
import type { InvitationStore, Store } from '../store';
import { createInvitationService } from './service';
import type { InvitationMessage } from './types';

const SECRET = 'a-32-byte-secret-for-invitations!';
const OTHER = 'another-32-byte-secret-for-tests';

const setup = (options: Partial<Parameters<typeof createInvitationService>[0]> = {}) => {
  const store = createMemoryStore();
  return { store, service: createInvitationService({ store, secret: SECRET, ...options }) };
};

const codeOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (err: { code?: string }) => err.code,
  );

describe('createInvitationService options', () => {
  it('refuses a store without invitations, short secrets (also in a rotation list) and an empty list', () => {
    const { invitations: _ignored, ...bare } = createMemoryStore();
    expect(() => createInvitationService({ store: bare as Store, secret: SECRET })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    const store = createMemoryStore();
    for (const secret of ['short', new Uint8Array(31), [SECRET, 'short'], []]) {
      expect(() => createInvitationService({ store, secret })).toThrow(
        expect.objectContaining({ code: 'configuration_error' }),
      );
    }
    expect(() => createInvitationService({ store, secret: randomBytes(32) })).not.toThrow();
  });
});

describe('create', () => {
  it('returns a 32-byte base64url token once, stores only its HMAC, and builds the url', async () => {
    const send = vi.fn<(m: InvitationMessage) => void>();
    const { store, service } = setup({ urlFor: (t) => `https://app.test/signup?token=${t}`, send });
    const invitationStore = store.invitations as InvitationStore;
    const findSpy = vi.spyOn(invitationStore, 'createInvitation');
    const { invitation, token, url } = await service.create({
      email: '  Ada@Example.COM ',
      role: 'editor',
      invitedBy: 'admin-1',
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(url).toBe(`https://app.test/signup?token=${token}`);
    expect(invitation).toMatchObject({ email: 'ada@example.com', role: 'editor', invitedBy: 'admin-1' });
    expect(invitation.expiresAt.getTime() - Date.now()).toBeGreaterThan(7 * 86_400_000 - 5_000);
    const stored = findSpy.mock.calls[0]?.[0];
    expect(stored?.tokenHash).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(JSON.stringify(await invitationStore.listInvitations({ now: new Date() }))).not.toContain(token);
    expect(send).toHaveBeenCalledWith({ email: 'ada@example.com', url, invitation });
    expect(JSON.stringify(send.mock.calls[0]?.[0].invitation)).not.toContain(token);
  });

  it('defaults the role to user and validates email, role and invitedBy (invalid_request)', async () => {
    const { service } = setup();
    expect((await service.create({ email: 'a@b.test', invitedBy: 'x' })).invitation.role).toBe('user');
    const bad = [
      { email: 'no-at-sign', invitedBy: 'x' },
      { email: 'two@@b.test', invitedBy: 'x' },
      { email: 'a@b@c.test', invitedBy: 'x' },
      { email: '@b.test', invitedBy: 'x' },
      { email: 'a@', invitedBy: 'x' },
      { email: 'a\u0000@b.test', invitedBy: 'x' },
      { email: `${'a'.repeat(320)}@b.test`, invitedBy: 'x' },
      { email: 42 as unknown as string, invitedBy: 'x' },
      { email: 'a@b.test', invitedBy: '' },
      { email: 'a@b.test', role: 'admin; drop', invitedBy: 'x' },
    ];
    for (const input of bad)
      expect(await codeOf(service.create(input)), JSON.stringify(input)).toBe('invalid_request');
  });

  it('a new invitation for the same email replaces the pending one: the old token stops working', async () => {
    const { service } = setup();
    const first = await service.create({ email: 'ada@example.com', invitedBy: 'x' });
    const second = await service.create({ email: 'ADA@example.com', role: 'admin', invitedBy: 'x' });
    expect(await codeOf(service.validate({ token: first.token, email: 'ada@example.com' }))).toBe(
      'invitation_revoked',
    );
    expect((await service.validate({ token: second.token, email: 'ada@example.com' })).role).toBe('admin');
    expect(await service.list({ status: 'pending' })).toHaveLength(1);
  });

  it('a failing send rethrows and leaves no invitation behind', async () => {
    const { service } = setup({
      send: () => {
        throw new Error('smtp down');
      },
    });
    await expect(service.create({ email: 'ada@example.com', invitedBy: 'x' })).rejects.toThrow('smtp down');
    expect(await service.list()).toHaveLength(0);
  });
});

describe('validate, peek, consume', () => {
  it('accepts the token with the invited email in any case and spacing; peek pre-fills without consuming', async () => {
    const { service } = setup();
    const { token, invitation } = await service.create({
      email: 'ada@example.com',
      role: 'editor',
      invitedBy: 'x',
    });
    expect((await service.validate({ token, email: ' ADA@example.com ' })).id).toBe(invitation.id);
    expect(await service.peek({ token })).toEqual({
      email: 'ada@example.com',
      role: 'editor',
      expiresAt: invitation.expiresAt,
    });
    expect(await service.peek({ token })).toMatchObject({ email: 'ada@example.com' });
    const consumed = await service.consume({ token, email: 'Ada@Example.com' });
    expect(consumed.consumedAt).toBeInstanceOf(Date);
  });

  it('gives each failure its own code, and HTTP collapses them all to invalid_invitation', async () => {
    let now = new Date();
    const { service } = setup({ ttlMs: 60_000, now: () => now });
    const email = 'ada@example.com';
    const expired = await service.create({ email: 'late@example.com', invitedBy: 'x' });
    const revoked = await service.create({ email: 'gone@example.com', invitedBy: 'x' });
    await service.revoke(revoked.invitation.id);
    const used = await service.create({ email: 'used@example.com', invitedBy: 'x' });
    await service.consume({ token: used.token, email: 'used@example.com' });
    const good = await service.create({ email, invitedBy: 'x' });

    const cases: Array<[string, Promise<unknown>]> = [
      ['invitation_invalid', service.validate({ token: 'not-a-token', email })],
      ['invitation_invalid', service.validate({ token: randomBytes(32).toString('base64url'), email })],
      ['invitation_revoked', service.validate({ token: revoked.token, email: 'gone@example.com' })],
      ['invitation_consumed', service.validate({ token: used.token, email: 'used@example.com' })],
      ['invitation_consumed', service.consume({ token: used.token, email: 'used@example.com' })],
      ['invitation_email_mismatch', service.validate({ token: good.token, email: 'eve@example.com' })],
      ['invitation_email_mismatch', service.consume({ token: good.token, email: 'eve@example.com' })],
      ['invitation_revoked', service.peek({ token: revoked.token })],
    ];
    now = new Date(now.getTime() + 60_000);
    cases.push(['invitation_expired', service.validate({ token: expired.token, email: 'late@example.com' })]);
    cases.push(['invitation_expired', service.peek({ token: expired.token })]);
    for (const [code, promise] of cases) {
      const err = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code, status: 403 });
      expect(toHttpResponse(err).body.error).toBe('invalid_invitation');
    }
    // The failed attempts did not consume the good one.
    now = new Date(now.getTime() - 30_000);
    expect((await service.consume({ token: good.token, email })).id).toBe(good.invitation.id);
  });

  it('of 50 parallel consumes exactly one succeeds', async () => {
    const { service } = setup();
    const { token } = await service.create({ email: 'ada@example.com', invitedBy: 'x' });
    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, () => service.consume({ token, email: 'ada@example.com' })),
    );
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(
      settled.every(
        (s) => s.status === 'fulfilled' || (s.reason as { code: string }).code === 'invitation_consumed',
      ),
    ).toBe(true);
  });

  it('rotation: tokens signed with an old secret keep working while it is listed, and stop when it is dropped', async () => {
    const store = createMemoryStore();
    const before = createInvitationService({ store, secret: OTHER });
    const { token } = await before.create({ email: 'ada@example.com', invitedBy: 'x' });
    const rotated = createInvitationService({ store, secret: [SECRET, OTHER] });
    expect((await rotated.peek({ token })).email).toBe('ada@example.com');
    const fresh = await rotated.create({ email: 'bob@example.com', invitedBy: 'x' });
    const after = createInvitationService({ store, secret: SECRET });
    expect(await codeOf(after.peek({ token }))).toBe('invitation_invalid');
    expect((await after.peek({ token: fresh.token })).email).toBe('bob@example.com');
  });
});

describe('revoke, purgeExpired, list', () => {
  it('revokes soft (kept, listed as revoked) or hard (gone); unknown ids answer false', async () => {
    const { service } = setup();
    const a = await service.create({ email: 'a@example.com', invitedBy: 'x' });
    const b = await service.create({ email: 'b@example.com', invitedBy: 'x' });
    expect(await service.revoke(a.invitation.id, { soft: true })).toBe(true);
    expect(await service.revoke(b.invitation.id, { soft: false })).toBe(true);
    expect(await service.revoke('missing')).toBe(false);
    expect((await service.list({ status: 'revoked' })).map((i) => i.id)).toEqual([a.invitation.id]);
    expect(await codeOf(service.peek({ token: b.token }))).toBe('invitation_invalid');
  });

  it('purgeExpired counts what ended more than olderThanMs ago; list filters by status', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const store = createMemoryStore();
    const service = createInvitationService({ store, secret: SECRET, ttlMs: 1_000, now: () => now });
    await service.create({ email: 'a@example.com', invitedBy: 'x' });
    await service.create({ email: 'b@example.com', invitedBy: 'x' });
    now = new Date(now.getTime() + 10_000);
    const live = await service.create({ email: 'c@example.com', invitedBy: 'x' });
    expect((await service.list({ status: 'expired' })).length).toBe(2);
    expect((await service.list({ status: 'pending' })).map((i) => i.id)).toEqual([live.invitation.id]);
    expect(await service.purgeExpired({ olderThanMs: 60_000 })).toBe(0);
    expect(await service.purgeExpired({ olderThanMs: 5_000 })).toBe(2);
    expect(await service.list()).toHaveLength(1);
    expect(await codeOf(service.list({ status: 'bogus' as 'pending' }))).toBe('invalid_request');
    expect(await codeOf(service.purgeExpired({ olderThanMs: -1 }))).toBe('invalid_request');
  });
});

describe('createMany', () => {
  it('reports per item, survives a bad email and a failing send, and creates one invitation per duplicate email', async () => {
    const sent: string[] = [];
    const { service } = setup({
      send: ({ email }) => {
        if (email === 'bounce@example.com') throw new Error('bounced');
        sent.push(email);
      },
    });
    const results = await service.createMany(
      [
        { email: 'a@example.com', invitedBy: 'x' },
        { email: 'not an email', invitedBy: 'x' },
        { email: 'bounce@example.com', invitedBy: 'x' },
        { email: 'A@Example.com', invitedBy: 'x' },
        { email: 'b@example.com', role: 'admin', invitedBy: 'x' },
      ],
      { concurrency: 3, perSecond: 100 },
    );
    expect(results.map((r) => r.ok)).toEqual([true, false, false, true, true]);
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(results[3]).toMatchObject({ ok: true, duplicate: true });
    const [first, , , dup] = results;
    if (!first?.ok || !dup?.ok) throw new Error('unreachable');
    expect(dup.invitation.id).toBe(first.invitation.id);
    expect(sent.sort()).toEqual(['a@example.com', 'b@example.com']);
    expect((await service.list({ status: 'pending' })).map((i) => i.email).sort()).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
  });

  it('throttles with a token bucket: no more than burst + rate × t sends by time t', async () => {
    const times: number[] = [];
    const { service } = setup({ send: () => void times.push(Date.now()) });
    const start = Date.now();
    const perSecond = 40;
    const list = Array.from({ length: 60 }, (_, i) => ({ email: `u${i}@example.com`, invitedBy: 'x' }));
    const results = await service.createMany(list, { concurrency: 8, perSecond });
    expect(results.every((r) => r.ok)).toBe(true);
    times.sort((a, b) => a - b);
    times.forEach((t, i) => {
      // The i-th send needs i+1 tokens; the bucket starts with `perSecond` of them.
      const earliest = start + ((i + 1 - perSecond) / perSecond) * 1000;
      expect(t).toBeGreaterThanOrEqual(earliest - 5);
    });
    expect(Date.now() - start).toBeGreaterThanOrEqual(((60 - perSecond) / perSecond) * 1000 - 10);
  });

  it('a shared throttle replaces the per-call bucket: two calls go only as far as it lets them', async () => {
    const sent: string[] = [];
    const { service } = setup({ send: ({ email }) => void sent.push(email) });
    const gates: (() => void)[] = [];
    const throttle = () => new Promise<void>((resolve) => gates.push(resolve));
    const list = (p: string) => [0, 1, 2].map((i) => ({ email: `${p}${i}@example.com`, invitedBy: 'x' }));
    const both = Promise.all([
      service.createMany(list('a'), { throttle, concurrency: 1 }),
      service.createMany(list('b'), { throttle, concurrency: 1 }),
    ]);
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    gates.shift()?.();
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(gates).toHaveLength(2); // the released worker waits for its next turn
    while (sent.length < 6) {
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await both).flat().every((r) => r.ok)).toBe(true);
  });
});
