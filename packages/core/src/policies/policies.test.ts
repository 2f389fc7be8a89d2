import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import { toHttpResponse } from '../errors';
import { createInvitationService } from '../invitations';
import { createProvisioner } from '../provisioning';
import type { InvitationStore } from '../store';
import type { Identity, Logger, Policy } from '../types';
import { emailDomainAllowlist, invitationRequired } from './policies';

const ISS = 'https://sso.example.com';
const SECRET = 'a-32-byte-secret-for-invitations!';
const quiet: Logger = { warn: () => {}, error: () => {} };
let n = 0;
const id = (email: string | undefined, emailVerified: boolean | undefined = true): Identity => {
  n += 1;
  const identity: Identity = { issuer: ISS, subject: `s${n}` };
  if (email !== undefined) identity.email = email;
  if (emailVerified !== undefined) identity.emailVerified = emailVerified;
  return identity;
};

const refusal = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'created',
    (err: { code: string; status: number }) => `${err.status}:${err.code}`,
  );

describe('emailDomainAllowlist', () => {
  const provisionerWith = (policy: Policy) => {
    const store = createMemoryStore();
    const hook = vi.fn();
    return {
      store,
      hook,
      provisioner: createProvisioner({ store, policies: [policy], onProvisioned: [hook], logger: quiet }),
    };
  };

  it('admits exact and subdomain matches (normalised), refuses look-alikes with email_domain_not_allowed', async () => {
    const { provisioner } = provisionerWith(emailDomainAllowlist(['Corp.com.', '*.corp.com']));
    for (const email of ['a@corp.com', ' A@CORP.COM ', 'a@corp.com.', 'a@eu.corp.com', 'a@x.eu.corp.com']) {
      expect(await refusal(provisioner.ensureUserExists(id(email))), email).toBe('created');
    }
    for (const email of [
      'a@corp.com.evil.io',
      'a@evilcorp.com',
      'a@corp.co',
      'a@corp.com@evil.io',
      'a@.corp.com',
      'a@x..corp.com',
      'no-at-sign',
      '"x@y"@corp.com',
    ]) {
      expect(await refusal(provisioner.ensureUserExists(id(email))), email).toBe(
        '403:email_domain_not_allowed',
      );
    }
  });

  it('refuses every address the one email parser refuses, and Kelvin-sign look-alikes (issue 11 #6)', async () => {
    const { provisioner } = provisionerWith(emailDomainAllowlist(['corp.com', 'kcorp.com']));
    for (const email of [
      'a@evil.com@corp.com',
      'attacker@evil.com,x@corp.com',
      'attacker@evil.com x@corp.com',
      'attacker@evil.com (x) .corp.com',
      'attacker@evil.com%x.corp.com',
      '=?utf-8?q?attacker=40evil.com?=@corp.com',
      '=?iso-8859-1?b?YXR0YWNrZXJAZXZpbC5jb20=?=@corp.com',
      'eve@\u212Acorp.com',
      'eve@\uff4bcorp.com',
    ]) {
      expect(await refusal(provisioner.ensureUserExists(id(email))), email).toBe(
        '403:email_domain_not_allowed',
      );
    }
    expect(await refusal(provisioner.ensureUserExists(id('eve@KCORP.com')))).toBe('created');
  });

  it('compares internationalised domains after IDNA, as punycode', async () => {
    const { provisioner } = provisionerWith(emailDomainAllowlist(['bücher.com']));
    expect(await refusal(provisioner.ensureUserExists(id('a@BÜCHER.com')))).toBe('created');
    expect(await refusal(provisioner.ensureUserExists(id('b@xn--bcher-kva.com')))).toBe('created');
    expect(await refusal(provisioner.ensureUserExists(id('c@bucher.com')))).toBe(
      '403:email_domain_not_allowed',
    );
  });

  it('wildcards match subdomains only; exact patterns match only themselves', async () => {
    const sub = provisionerWith(emailDomainAllowlist(['*.corp.com'])).provisioner;
    expect(await refusal(sub.ensureUserExists(id('a@corp.com')))).toBe('403:email_domain_not_allowed');
    const exact = provisionerWith(emailDomainAllowlist(['corp.com'])).provisioner;
    expect(await refusal(exact.ensureUserExists(id('a@eu.corp.com')))).toBe('403:email_domain_not_allowed');
  });

  it('requires a verified email by default (email_not_verified, no user, no hook); requireVerified: false relaxes it', async () => {
    const { provisioner, store, hook } = provisionerWith(emailDomainAllowlist(['corp.com']));
    const unverified = id('a@corp.com', false);
    expect(await refusal(provisioner.ensureUserExists(unverified))).toBe('403:email_not_verified');
    expect(
      await refusal(provisioner.ensureUserExists({ issuer: ISS, subject: 'nv', email: 'a@corp.com' })),
    ).toBe('403:email_not_verified');
    expect(await store.lookup(unverified)).toBeNull();
    expect(hook).not.toHaveBeenCalled();
    const relaxed = provisionerWith(
      emailDomainAllowlist(['corp.com'], { requireVerified: false }),
    ).provisioner;
    expect(await refusal(relaxed.ensureUserExists(id('a@corp.com', false)))).toBe('created');
    expect(await refusal(relaxed.ensureUserExists(id(undefined, false)))).toBe(
      '403:email_domain_not_allowed',
    );
  });

  it('refuses bad patterns at creation', () => {
    for (const bad of [
      [],
      [''],
      ['*'],
      ['*.com'],
      ['a@b.com'],
      ['co rp.com'],
      ['*.*.corp.com'],
      ['corp..com'],
      [42],
    ]) {
      expect(() => emailDomainAllowlist(bad as string[]), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'configuration_error' }),
      );
    }
  });

  it('answers 403 with the policy code over HTTP', async () => {
    const { provisioner } = provisionerWith(emailDomainAllowlist(['corp.com']));
    const err = await provisioner.ensureUserExists(id('a@evil.io')).catch((e: unknown) => e);
    expect(toHttpResponse(err)).toMatchObject({ status: 403, body: { error: 'email_domain_not_allowed' } });
  });
});

describe('invitationRequired', () => {
  const setup = (options: { createUser?: (i: Identity) => Promise<string>; waitMs?: number } = {}) => {
    const store = createMemoryStore();
    const invitations = createInvitationService({ store, secret: SECRET });
    const hook = vi.fn();
    const provisioner = createProvisioner({
      store,
      policies: [invitationRequired(invitations, { waitMs: options.waitMs ?? 0 })],
      onProvisioned: [hook],
      logger: quiet,
      ...(options.createUser ? { createUser: options.createUser } : {}),
    });
    return { store, invitations, provisioner, hook };
  };

  it('provisions an invited, verified email with the invitation role and consumes the invitation', async () => {
    const { invitations, provisioner, hook } = setup();
    await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: 'admin' });
    const result = await provisioner.ensureUserExists(id('Ada@Example.com'));
    expect(result).toMatchObject({ created: true, user: { role: 'editor' } });
    expect(hook).toHaveBeenCalledTimes(1);
    expect(await invitations.list({ status: 'consumed' })).toHaveLength(1);
    // Returning user: fast path, no policy, no invitation needed.
    expect((await provisioner.ensureUserExists({ issuer: ISS, subject: result.user.subject })).created).toBe(
      false,
    );
  });

  it('refuses without an invitation (invitation_required) or an unverified email (email_not_verified): no user, no hook, invitation kept', async () => {
    const { store, invitations, provisioner, hook } = setup();
    await invitations.create({ email: 'ada@example.com', invitedBy: 'admin' });
    const stranger = id('eve@example.com');
    expect(await refusal(provisioner.ensureUserExists(stranger))).toBe('403:invitation_required');
    expect(await refusal(provisioner.ensureUserExists(id('ada@example.com', false)))).toBe(
      '403:email_not_verified',
    );
    expect(await refusal(provisioner.ensureUserExists(id(undefined)))).toBe('403:email_not_verified');
    expect(await store.lookup(stranger)).toBeNull();
    expect(hook).not.toHaveBeenCalled();
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
  });

  it("a verified \\u212Aim@corp.com does not consume kim@corp.com's invitation (issue 11 #6)", async () => {
    const { invitations, provisioner } = setup();
    await invitations.create({ email: 'kim@corp.com', role: 'admin', invitedBy: 'admin' });
    expect(await refusal(provisioner.ensureUserExists(id('\u212Aim@corp.com')))).toBe(
      '403:invitation_required',
    );
    expect(await refusal(provisioner.ensureUserExists(id('kim@\u212A.corp.com')))).toBe(
      '403:invitation_required',
    );
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
    expect(await refusal(provisioner.ensureUserExists(id('KIM@corp.com')))).toBe('created');
  });

  it('an invitation admits one identity only', async () => {
    const { invitations, provisioner } = setup();
    await invitations.create({ email: 'ada@example.com', invitedBy: 'admin' });
    expect(await refusal(provisioner.ensureUserExists(id('ada@example.com')))).toBe('created');
    expect(await refusal(provisioner.ensureUserExists(id('ada@example.com')))).toBe(
      '403:invitation_required',
    );
  });

  it('puts the invitation back when creating the user fails', async () => {
    const { invitations, provisioner } = setup({
      createUser: async () => {
        throw new Error('app database down');
      },
    });
    await invitations.create({ email: 'ada@example.com', invitedBy: 'admin' });
    await expect(provisioner.ensureUserExists(id('ada@example.com'))).rejects.toThrow('app database down');
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
  });

  it('a later policy refusing puts the invitation back', async () => {
    const store = createMemoryStore();
    const invitations = createInvitationService({ store, secret: SECRET });
    const provisioner = createProvisioner({
      store,
      policies: [invitationRequired(invitations, { waitMs: 0 }), emailDomainAllowlist(['corp.com'])],
      logger: quiet,
    });
    await invitations.create({ email: 'ada@example.com', invitedBy: 'admin' });
    expect(await refusal(provisioner.ensureUserExists(id('ada@example.com')))).toBe(
      '403:email_domain_not_allowed',
    );
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
  });

  it('racing first logins of one person across processes: one user, one consumed invitation, everyone admitted', async () => {
    const store = createMemoryStore();
    const invitations = createInvitationService({ store, secret: SECRET });
    // Several provisioners on one store stand in for several processes (no shared in-process single-flight).
    const provisioners = Array.from({ length: 8 }, () =>
      createProvisioner({
        store,
        policies: [invitationRequired(invitations, { waitMs: 2_000 })],
        logger: quiet,
      }),
    );
    await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: 'admin' });
    const identity = id('ada@example.com');
    const results = await Promise.all(
      provisioners.flatMap((p) => [p.ensureUserExists(identity), p.ensureUserExists(identity)]),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    expect(results.every((r) => r.user.role === 'editor')).toBe(true);
    expect(await invitations.list({ status: 'consumed' })).toHaveLength(1);
  });

  it('settle with created false puts a second consumed invitation back', async () => {
    const store = createMemoryStore();
    const invitations = createInvitationService({ store, secret: SECRET });
    const policy = invitationRequired(invitations, { waitMs: 0 });
    await invitations.create({ email: 'ada@example.com', invitedBy: 'admin' });
    const identity = id('ada@example.com');
    const decision = await policy.beforeCreate({ identity, findUser: () => store.lookup(identity) });
    expect(decision?.role).toBe('user');
    const { user } = await store.upsert({ issuer: ISS, subject: 'other', username: 'u', role: 'user' });
    await decision?.settle?.({ user, created: false });
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
  });

  it('remembers an invitation_required refusal per email for 30 s: retries cost no invitation query and no wait (issue 11 #10)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const store = createMemoryStore();
      const pending = vi.spyOn(store.invitations as InvitationStore, 'findPendingInvitationByEmail');
      // A second service over the same store, as an admin API would have: its invitations clear the cache too.
      const admin = createInvitationService({ store, secret: SECRET });
      const provisioner = createProvisioner({
        store,
        policies: [invitationRequired(createInvitationService({ store, secret: SECRET }), { waitMs: 0 })],
        logger: quiet,
      });
      const eve = { issuer: ISS, subject: 'eve', email: 'eve@example.com', emailVerified: true };
      expect(await refusal(provisioner.ensureUserExists(eve))).toBe('403:invitation_required');
      const queries = pending.mock.calls.length;
      expect(queries).toBeGreaterThan(0);
      for (let i = 0; i < 20; i++) {
        expect(await refusal(provisioner.ensureUserExists(eve))).toBe('403:invitation_required');
      }
      expect(pending.mock.calls.length).toBe(queries);
      // Another address is not affected by eve's refusal.
      expect(await refusal(provisioner.ensureUserExists(id('mallory@example.com')))).toBe(
        '403:invitation_required',
      );
      expect(pending.mock.calls.length).toBeGreaterThan(queries);
      // The refusal expires after 30 s.
      vi.advanceTimersByTime(30_000);
      const before = pending.mock.calls.length;
      expect(await refusal(provisioner.ensureUserExists(eve))).toBe('403:invitation_required');
      expect(pending.mock.calls.length).toBeGreaterThan(before);
      // A new invitation in this process is honoured at once, whichever service created it.
      await admin.create({ email: 'EVE@example.com', invitedBy: 'admin' });
      expect(await refusal(provisioner.ensureUserExists(eve))).toBe('created');
    } finally {
      vi.useRealTimers();
    }
  });

  it('refusalCacheMs: 0 turns the refusal cache off; bad values fail at start-up', async () => {
    const store = createMemoryStore();
    const pending = vi.spyOn(store.invitations as InvitationStore, 'findPendingInvitationByEmail');
    const invitations = createInvitationService({ store, secret: SECRET });
    const provisioner = createProvisioner({
      store,
      policies: [invitationRequired(invitations, { waitMs: 0, refusalCacheMs: 0 })],
      logger: quiet,
    });
    const eve = { issuer: ISS, subject: 'eve0', email: 'eve0@example.com', emailVerified: true };
    await refusal(provisioner.ensureUserExists(eve));
    const queries = pending.mock.calls.length;
    await refusal(provisioner.ensureUserExists(eve));
    expect(pending.mock.calls.length).toBeGreaterThan(queries);
    for (const bad of [-1, Number.NaN]) {
      expect(() => invitationRequired(invitations, { refusalCacheMs: bad })).toThrow(
        expect.objectContaining({ code: 'configuration_error' }),
      );
    }
  });

  it('needs an invitation service', () => {
    expect(() => invitationRequired({} as never)).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
  });
});
