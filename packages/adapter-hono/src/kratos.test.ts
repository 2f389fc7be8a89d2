import { createInvitationService, createProvisioner } from '@jit-provision/core';
import { createMemoryStore } from '@jit-provision/store-memory';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { kratosWebhooks } from './index';

const KEY = 'kratos-webhook-shared-key-0123456789';
const ISSUER = 'https://auth.example.com';
const quiet = { warn: () => {}, error: () => {} };

/** What Kratos posts with the jsonnet `function(ctx) ctx` (trimmed to the fields that matter, plus noise). */
const kratosContext = (token: string, email: string, id = '9f425a8d-7efc-4768-8f23-7647a74fdf13') => ({
  flow: {
    id: 'a3a6b1a4-5e1f-4b8c-9d0e-1f2a3b4c5d6e',
    type: 'browser',
    request_url: `https://auth.example.com/self-service/registration/browser?return_to=%2F&token=${token}`,
    ui: { action: 'https://auth.example.com/self-service/registration?flow=a3a6', method: 'POST', nodes: [] },
  },
  identity: {
    id,
    schema_id: 'default',
    traits: { email, name: { first: 'Ada', last: 'Lovelace' }, role: 'admin' },
    verifiable_addresses: [{ id: 'b1', value: email, verified: true, via: 'email', status: 'completed' }],
  },
  request_headers: { Accept: ['application/json'] },
  request_method: 'POST',
  request_url: 'https://auth.example.com/self-service/registration?flow=a3a6b1a4-5e1f-4b8c-9d0e-1f2a3b4c5d6e',
});

const setup = async () => {
  const store = createMemoryStore();
  const invitations = createInvitationService({ store, secret: 'a-32-byte-secret-for-invitations!' });
  const provisioner = createProvisioner({ store, logger: quiet });
  const webhooks = kratosWebhooks({ invitations, provisioner, apiKey: KEY, issuer: ISSUER });
  const app = new Hono();
  app.route('/kratos', webhooks);
  /** POST through Hono's real request pipeline; a string body is sent as is, anything else as JSON. */
  const post = async (url: string, body: unknown, key: string | null = KEY) => {
    const res = await app.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'x-api-key': key }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { post, store, invitations };
};

describe('hono kratosWebhooks', () => {
  it('check-invitation: 200 with the invitation role for the whole ctx and the flat shape; 400 Kratos body otherwise', async () => {
    const { post, invitations } = await setup();
    const { token } = await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: 'x' });
    const whole = await post('/kratos/check-invitation', kratosContext(token, 'ada@example.com'));
    expect(whole.status).toBe(200);
    expect(whole.body).toEqual({
      identity: {
        traits: { email: 'ada@example.com', name: { first: 'Ada', last: 'Lovelace' }, role: 'editor' },
      },
    });
    const flat = await post('/kratos/check-invitation', {
      traits: { email: 'ada@example.com' },
      request_url: `https://app.example.com/signup?token=${token}`,
    });
    expect(flat).toMatchObject({ status: 200, body: { identity: { traits: { role: 'editor' } } } });
    const wrong = await post('/kratos/check-invitation', kratosContext(token, 'eve@example.com'));
    expect(wrong).toMatchObject({ status: 400, body: { messages: [{ instance_ptr: '#/traits/email' }] } });
  });

  it('consume-invitation is idempotent under a retry and provisions with the invitation role', async () => {
    const { post, store, invitations } = await setup();
    const { token } = await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: 'x' });
    const body = kratosContext(token, 'ada@example.com');
    const first = await post('/kratos/consume-invitation', body);
    const retry = await post('/kratos/consume-invitation', body);
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(await invitations.list({ status: 'consumed' })).toHaveLength(1);
    expect(await store.lookup({ issuer: ISSUER, subject: body.identity.id })).toMatchObject({
      role: 'editor',
    });
  });

  it('provision-identity creates the user keyed by (issuer, identity.id)', async () => {
    const { post, store } = await setup();
    const res = await post(
      '/kratos/provision-identity',
      kratosContext('unused', 'bob@example.com', 'id-bob'),
    );
    expect(res).toMatchObject({ status: 200, body: { created: true } });
    expect(await store.lookup({ issuer: ISSUER, subject: 'id-bob' })).toMatchObject({
      email: 'bob@example.com',
    });
  });

  it('401 without or with a wrong key (nothing changed), 413 over 1 MiB, 400 for non-JSON or non-object bodies', async () => {
    const { post, store, invitations } = await setup();
    const { token } = await invitations.create({ email: 'ada@example.com', invitedBy: 'x' });
    const body = kratosContext(token, 'ada@example.com');
    for (const path of [
      '/kratos/check-invitation',
      '/kratos/consume-invitation',
      '/kratos/provision-identity',
    ]) {
      expect(await post(path, body, null)).toMatchObject({ status: 401, body: { error: 'invalid_api_key' } });
      expect((await post(path, body, 'wrong-key-0123456789')).status).toBe(401);
      const big = await post(path, { ...body, pad: 'x'.repeat(1024 * 1024) });
      expect(big).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
      expect((await post(path, '{')).status).toBe(400);
      expect((await post(path, [1, 2])).status).toBe(400);
    }
    expect(await store.lookup({ issuer: ISSUER, subject: body.identity.id })).toBeNull();
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
  });
});
