import { createInvitationService, createProvisioner } from '@jit-provision/core';
import { createMemoryStore } from '@jit-provision/store-memory';
import express from 'express';
import request from 'supertest';
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

const setup = () => {
  const store = createMemoryStore();
  const invitations = createInvitationService({ store, secret: 'a-32-byte-secret-for-invitations!' });
  const provisioner = createProvisioner({ store, logger: quiet });
  const app = express();
  app.use('/kratos', kratosWebhooks({ invitations, provisioner, apiKey: KEY, issuer: ISSUER }));
  return { app, store, invitations };
};

describe('express kratosWebhooks', () => {
  it('check-invitation: 200 with the invitation role for the whole ctx and the flat shape; 400 Kratos body otherwise', async () => {
    const { app, invitations } = setup();
    const { token } = await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: 'x' });
    const whole = await request(app)
      .post('/kratos/check-invitation')
      .set('x-api-key', KEY)
      .send(kratosContext(token, 'ada@example.com'));
    expect(whole.status).toBe(200);
    expect(whole.body.identity.traits).toEqual({
      email: 'ada@example.com',
      name: { first: 'Ada', last: 'Lovelace' },
      role: 'editor',
    });
    const flat = await request(app)
      .post('/kratos/check-invitation')
      .set('x-api-key', KEY)
      .send({
        traits: { email: 'ada@example.com' },
        request_url: `https://app.example.com/signup?token=${token}`,
      });
    expect(flat.status).toBe(200);
    expect(flat.body.identity.traits.role).toBe('editor');
    const wrong = await request(app)
      .post('/kratos/check-invitation')
      .set('x-api-key', KEY)
      .send(kratosContext(token, 'eve@example.com'));
    expect(wrong.status).toBe(400);
    expect(wrong.body.messages[0].instance_ptr).toBe('#/traits/email');
  });

  it('consume-invitation is idempotent under a retry and provisions with the invitation role', async () => {
    const { app, store, invitations } = setup();
    const { token } = await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: 'x' });
    const body = kratosContext(token, 'ada@example.com');
    const first = await request(app).post('/kratos/consume-invitation').set('x-api-key', KEY).send(body);
    const retry = await request(app).post('/kratos/consume-invitation').set('x-api-key', KEY).send(body);
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(await invitations.list({ status: 'consumed' })).toHaveLength(1);
    expect(await store.lookup({ issuer: ISSUER, subject: body.identity.id })).toMatchObject({
      role: 'editor',
    });
  });

  it('provision-identity creates the user keyed by (issuer, identity.id)', async () => {
    const { app, store } = setup();
    const body = kratosContext('unused', 'bob@example.com', 'id-bob');
    const res = await request(app).post('/kratos/provision-identity').set('x-api-key', KEY).send(body);
    expect(res.status).toBe(200);
    expect(res.body.created).toBe(true);
    expect(await store.lookup({ issuer: ISSUER, subject: 'id-bob' })).toMatchObject({
      email: 'bob@example.com',
    });
  });

  it('401 without or with a wrong key (nothing changed), 413 over 1 MiB, 400 for non-JSON or non-object bodies', async () => {
    const { app, store, invitations } = setup();
    const { token } = await invitations.create({ email: 'ada@example.com', invitedBy: 'x' });
    const body = kratosContext(token, 'ada@example.com');
    for (const path of [
      '/kratos/check-invitation',
      '/kratos/consume-invitation',
      '/kratos/provision-identity',
    ]) {
      const none = await request(app).post(path).send(body);
      expect(none.status).toBe(401);
      expect(none.body.error).toBe('invalid_api_key');
      expect((await request(app).post(path).set('x-api-key', 'wrong-key-0123456789').send(body)).status).toBe(
        401,
      );
      const big = await request(app)
        .post(path)
        .set('x-api-key', KEY)
        .send({ ...body, pad: 'x'.repeat(1024 * 1024) });
      expect(big.status).toBe(413);
      expect(big.body.error).toBe('payload_too_large');
      const broken = await request(app)
        .post(path)
        .set('x-api-key', KEY)
        .set('content-type', 'application/json')
        .send('{');
      expect(broken.status).toBe(400);
      const array = await request(app).post(path).set('x-api-key', KEY).send([1, 2]);
      expect(array.status).toBe(400);
    }
    expect(await store.lookup({ issuer: ISSUER, subject: body.identity.id })).toBeNull();
    expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
  });
});
