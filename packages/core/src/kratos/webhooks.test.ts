import { createMemoryStore } from '@jit-provision/store-memory';
import { KRATOS_TEST_API_KEY as KEY, kratosContext } from '@jit-provision/testing';
import { describe, expect, it, vi } from 'vitest';
import { KRATOS_MAX_BODY_BYTES } from '../adapter';
import { createInvitationService } from '../invitations';
import { createProvisioner } from '../provisioning';
import type { Logger, UserEvent } from '../types';
import { kratosWebhooks } from './webhooks';

const ISSUER = 'https://auth.example.com';
const quiet: Logger = { warn: () => {}, error: () => {} };
const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };

const setup = () => {
  const store = createMemoryStore();
  const invitations = createInvitationService({ store, secret: 'a-32-byte-secret-for-invitations!' });
  const hook = vi.fn();
  const provisioner = createProvisioner({ store, onProvisioned: [hook], logger: quiet });
  const hooks = kratosWebhooks({ invitations, provisioner, apiKey: KEY, issuer: ISSUER });
  return { store, invitations, provisioner, hooks, hook };
};

describe('kratosWebhooks', () => {
  it('refuses bad options', () => {
    const { invitations, provisioner } = setup();
    for (const bad of [
      { invitations, provisioner, apiKey: 'short', issuer: ISSUER },
      { invitations, provisioner, apiKey: [], issuer: ISSUER },
      { invitations, provisioner, apiKey: KEY, issuer: '' },
      { invitations, provisioner: {} as never, apiKey: KEY, issuer: ISSUER },
    ]) {
      expect(() => kratosWebhooks(bad)).toThrow(expect.objectContaining({ code: 'configuration_error' }));
    }
  });

  it('checkInvitation: a valid invitation answers 200 with every trait and the invitation role (whole ctx and flat shape)', async () => {
    const { invitations, hooks } = setup();
    const { token } = await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: 'x' });
    const whole = await hooks.checkInvitation({ headers, body: kratosContext(token, 'Ada@Example.com') });
    expect(whole).toMatchObject({ status: 200 });
    expect(whole.body).toEqual({
      identity: {
        traits: { email: 'Ada@Example.com', name: { first: 'Ada', last: 'Lovelace' }, role: 'editor' },
      },
    });
    const flat = await hooks.checkInvitation({
      headers,
      body: {
        traits: { email: 'ada@example.com' },
        request_url: `https://app.example.com/signup?token=${token}`,
      },
    });
    expect(flat).toMatchObject({
      status: 200,
      body: { identity: { traits: { email: 'ada@example.com', role: 'editor' } } },
    });
    // Checking consumes nothing.
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
  });

  it('checkInvitation: every kind of invalid invitation gets the same Kratos error body', async () => {
    const { invitations, hooks } = setup();
    const { token } = await invitations.create({ email: 'ada@example.com', invitedBy: 'x' });
    const used = await invitations.create({ email: 'used@example.com', invitedBy: 'x' });
    await invitations.consume({ token: used.token, email: 'used@example.com' });
    const answers = await Promise.all([
      hooks.checkInvitation({ headers, body: kratosContext(null, 'ada@example.com') }),
      hooks.checkInvitation({ headers, body: kratosContext('x'.repeat(43), 'ada@example.com') }),
      hooks.checkInvitation({ headers, body: kratosContext(token, 'eve@example.com') }),
      hooks.checkInvitation({ headers, body: kratosContext(used.token, 'used@example.com') }),
      hooks.checkInvitation({ headers, body: { traits: {}, request_url: `https://a.test/?token=${token}` } }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual(answers[0]?.body);
      expect(answer.body).toMatchObject({
        messages: [{ instance_ptr: '#/traits/email', messages: [{ id: 4000001, type: 'error' }] }],
      });
    }
  });

  it('consumeInvitation consumes, provisions with the invitation role (never the traits role), and is idempotent', async () => {
    const { store, invitations, hooks, hook } = setup();
    const { token } = await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: 'x' });
    const body = kratosContext(token, 'ada@example.com');
    const first = await hooks.consumeInvitation({ headers, body });
    const again = await hooks.consumeInvitation({ headers, body });
    expect(first.status).toBe(200);
    expect(again).toEqual(first);
    const user = await store.lookup({ issuer: ISSUER, subject: body.identity.id });
    expect(user).toMatchObject({ role: 'editor', email: 'ada@example.com', name: 'Ada Lovelace' });
    expect(first.body).toEqual({ user_id: user?.id });
    expect(await invitations.list({ status: 'consumed' })).toHaveLength(1);
    expect(hook).toHaveBeenCalledTimes(1);
    // Another identity replaying the consumed token is refused.
    const other = await hooks.consumeInvitation({
      headers,
      body: kratosContext(token, 'ada@example.com', 'other-id'),
    });
    expect(other.status).toBe(400);
  });

  it('consumeInvitation: parallel duplicate deliveries consume once', async () => {
    const { invitations, hooks } = setup();
    const { token } = await invitations.create({ email: 'ada@example.com', invitedBy: 'x' });
    const body = kratosContext(token, 'ada@example.com');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => hooks.consumeInvitation({ headers, body })),
    );
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(await invitations.list({ status: 'consumed' })).toHaveLength(1);
  });

  it('consumeInvitation for an existing user: the role change is an event with no silent demotion of the only admin', async () => {
    for (const hookDelivery of ['inline', 'outbox'] as const) {
      const store = createMemoryStore();
      const events: UserEvent[] = [];
      const invitations = createInvitationService({ store, secret: 'a-32-byte-secret-for-invitations!' });
      const provisioner = createProvisioner({
        store,
        hookDelivery,
        onUserEvent: [(e) => void events.push(e)],
        logger: quiet,
      });
      const hooks = kratosWebhooks({ invitations, provisioner, apiKey: KEY, issuer: ISSUER });
      const subject = 'only-admin-identity';
      const admin = await provisioner.preProvision({ issuer: ISSUER, subject, role: 'admin' });
      const demoting = await invitations.create({ email: 'ada@example.com', role: 'user', invitedBy: 'x' });
      const refused = await hooks.consumeInvitation({
        headers,
        body: kratosContext(demoting.token, 'ada@example.com', subject),
      });
      expect(refused).toMatchObject({ status: 409, body: { error: 'last_admin' } });
      expect(await provisioner.getUser(admin.id)).toMatchObject({ role: 'admin' });
      // No user change happened, so the invitation stays usable.
      expect(await invitations.list({ status: 'pending' })).toHaveLength(1);

      // Another admin exists: the change goes through, as a user.role_changed event.
      await provisioner.preProvision({ issuer: ISSUER, subject: 'second-admin', role: 'admin' });
      const answer = await hooks.consumeInvitation({
        headers,
        body: kratosContext(demoting.token, 'ada@example.com', subject),
      });
      expect(answer).toMatchObject({ status: 200, body: { user_id: admin.id } });
      expect(await provisioner.getUser(admin.id)).toMatchObject({ role: 'user', roleSource: 'local' });
      const deadline = Date.now() + 10_000;
      const changed = () => events.filter((e) => e.type === 'user.role_changed');
      while (changed().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(changed(), hookDelivery).toMatchObject([
        { userId: admin.id, data: { from: 'admin', to: 'user', source: 'local' } },
      ]);
      await provisioner.close();
    }
  });

  it('consumeInvitation puts the invitation back when provisioning fails', async () => {
    const { store, invitations } = setup();
    const provisioner = createProvisioner({
      store,
      logger: quiet,
      createUser: async () => {
        throw new Error('app db down');
      },
    });
    const hooks = kratosWebhooks({ invitations, provisioner, apiKey: KEY, issuer: ISSUER });
    const { token } = await invitations.create({ email: 'ada@example.com', invitedBy: 'x' });
    const answer = await hooks.consumeInvitation({ headers, body: kratosContext(token, 'ada@example.com') });
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.body)).not.toContain('app db down');
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
  });

  it('provisionIdentity creates the user once, keyed by (issuer, identity.id), with verified email and name', async () => {
    const { store, hooks, hook } = setup();
    const body = kratosContext(null, 'ada@example.com');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => hooks.provisionIdentity({ headers, body })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => (a.body as { created: boolean }).created)).toHaveLength(1);
    const user = await store.lookup({ issuer: ISSUER, subject: body.identity.id });
    expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace', role: 'user' });
    expect(hook).toHaveBeenCalledTimes(1);
    const flat = await hooks.provisionIdentity({
      headers,
      body: { identity_id: 'flat-1', traits: { email: 'bob@example.com', name: 'Bob' } },
    });
    expect(flat.status).toBe(200);
    expect(await store.lookup({ issuer: ISSUER, subject: 'flat-1' })).toMatchObject({ name: 'Bob' });
    expect((await hooks.provisionIdentity({ headers, body: { traits: {} } })).status).toBe(400);
  });

  it('provisionIdentity passes emailVerified so policies can rely on it', async () => {
    const store = createMemoryStore();
    const { emailDomainAllowlist } = await import('../policies');
    const provisioner = createProvisioner({
      store,
      logger: quiet,
      policies: [emailDomainAllowlist(['example.com'])],
    });
    const hooks = kratosWebhooks({ provisioner, apiKey: KEY, issuer: ISSUER });
    const body = kratosContext(null, 'ada@example.com');
    const [address] = body.identity.verifiable_addresses;
    if (address === undefined) throw new Error('fixture has an address');
    address.verified = false;
    const refused = await hooks.provisionIdentity({ headers, body });
    expect(refused).toMatchObject({ status: 403, body: { error: 'email_not_verified' } });
    address.verified = true;
    expect((await hooks.provisionIdentity({ headers, body })).status).toBe(200);
  });

  it('every hook needs the API key (401, nothing changed), refuses non-object bodies (400) and oversized raw bodies (413)', async () => {
    const { store, invitations, hooks } = setup();
    const { token } = await invitations.create({ email: 'ada@example.com', invitedBy: 'x' });
    const body = kratosContext(token, 'ada@example.com');
    for (const handler of [hooks.checkInvitation, hooks.consumeInvitation, hooks.provisionIdentity]) {
      for (const h of [
        {},
        { 'x-api-key': `${KEY}x` },
        { 'x-api-key': KEY.slice(0, -1) },
        { 'x-api-key': [KEY, KEY] },
      ]) {
        const answer = await handler({ headers: h, body });
        expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_api_key' } });
      }
      for (const bad of [null, [], 'null', '[1]', '{', 42, undefined]) {
        expect((await handler({ headers, body: bad })).status, JSON.stringify(bad)).toBe(400);
      }
      const big = JSON.stringify({ ...body, pad: 'x'.repeat(KRATOS_MAX_BODY_BYTES) });
      expect(await handler({ headers, body: big })).toMatchObject({
        status: 413,
        body: { error: 'payload_too_large' },
      });
    }
    expect(await store.lookup({ issuer: ISSUER, subject: body.identity.id })).toBeNull();
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
    // Web-standard Headers and a raw JSON string work too.
    const answer = await hooks.consumeInvitation({
      headers: new Headers(headers),
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
    expect(await store.lookup({ issuer: ISSUER, subject: body.identity.id })).not.toBeNull();
  });

  it('uses a custom header and accepts any key of a rotation list', async () => {
    const { invitations, provisioner } = setup();
    const hooks = kratosWebhooks({
      invitations,
      provisioner,
      apiKey: ['old-key-0123456789abcdef', KEY],
      apiKeyHeader: 'Authorization',
      issuer: ISSUER,
    });
    const body = kratosContext(null, 'ada@example.com');
    expect((await hooks.provisionIdentity({ headers: { authorization: KEY }, body })).status).toBe(200);
    expect(
      (await hooks.provisionIdentity({ headers: { Authorization: 'old-key-0123456789abcdef' }, body }))
        .status,
    ).toBe(200);
    expect((await hooks.provisionIdentity({ headers: { 'x-api-key': KEY }, body })).status).toBe(401);
  });
});
