import type { Store } from '@jit-provision/core';
import { createInvitationService, createProvisioner } from '@jit-provision/core';
import type { KratosWebhooksOptions } from '@jit-provision/core/kratos';
import { describe, expect, it } from 'vitest';
import { deepJson } from './routes';

/** What a Kratos webhook answered, as seen over HTTP. */
export interface KratosTestResponse {
  status: number;
  body: unknown;
}

/**
 * POST `body` (sent as is) to `path` of the app, with `headers` (content type and, when the case has one,
 * the API key). Each adapter implements it through its framework's real request pipeline.
 */
export type KratosTestPost = (
  path: string,
  body: string,
  headers: Record<string, string>,
) => Promise<KratosTestResponse>;

/** Options of {@link runKratosWebhookSuite}. */
export interface KratosWebhookSuiteOptions {
  /** Shown in the suite title. */
  name: string;
  /** A fresh, real store with invitations. */
  createStore: () => Store | Promise<Store>;
  /** Mount the adapter's `kratosWebhooks(options)` under `/kratos` and return a POST through it. */
  mount(options: KratosWebhooksOptions): KratosTestPost | Promise<KratosTestPost>;
}

/** The API key the suite configures (Kratos `auth: api_key`). */
export const KRATOS_TEST_API_KEY = 'kratos-webhook-shared-key-0123456789';
const ISSUER = 'https://auth.example.com';
const quiet = { warn: () => {}, error: () => {} };

/**
 * What Kratos posts with the jsonnet `function(ctx) ctx` on registration: the flow (whose `request_url`
 * carries the invitation `token` query parameter; none when `token` is null), the identity with its traits
 * and addresses, and request noise.
 *
 * @example
 * ```ts
 * const body = kratosContext(token, 'ada@example.com');
 * await fetch(`${url}/kratos/check-invitation`, { method: 'POST', headers, body: JSON.stringify(body) });
 * ```
 */
export function kratosContext(
  token: string | null,
  email: string,
  identityId = '9f425a8d-7efc-4768-8f23-7647a74fdf13',
) {
  return {
    flow: {
      id: 'a3a6b1a4-5e1f-4b8c-9d0e-1f2a3b4c5d6e',
      type: 'browser',
      expires_at: '2030-01-01T00:10:00Z',
      issued_at: '2030-01-01T00:00:00Z',
      request_url: `https://auth.example.com/self-service/registration/browser?return_to=https%3A%2F%2Fapp.example.com${token === null ? '' : `&token=${token}`}`,
      active: 'password',
      ui: {
        action: 'https://auth.example.com/self-service/registration?flow=a3a6',
        method: 'POST',
        nodes: [],
      },
      state: 'choose_method',
      transient_payload: {},
    },
    identity: {
      id: identityId,
      schema_id: 'default',
      schema_url: 'https://auth.example.com/schemas/ZGVmYXVsdA',
      state: 'active',
      traits: { email, name: { first: 'Ada', last: 'Lovelace' }, role: 'admin' },
      verifiable_addresses: [{ id: 'b1', value: email, verified: true, via: 'email', status: 'completed' }],
      recovery_addresses: [{ id: 'c1', value: email, via: 'email' }],
      metadata_public: null,
      created_at: '2030-01-01T00:05:00Z',
      updated_at: '2030-01-01T00:05:00Z',
    },
    request_headers: { Accept: ['application/json'], 'User-Agent': ['Mozilla/5.0'] },
    request_method: 'POST',
    request_url:
      'https://auth.example.com/self-service/registration?flow=a3a6b1a4-5e1f-4b8c-9d0e-1f2a3b4c5d6e',
  };
}

/**
 * The vitest suite every adapter's `kratosWebhooks` runs over its real framework: the invitation check
 * (whole Kratos context and the flat shape; Kratos' error body on a mismatch), consume (idempotent under
 * Kratos retries, role from the invitation), provision (keyed by `(issuer, identity.id)`), and the refusals
 * (401 without or with a wrong key, 413 over 1 MiB, 400 for bodies that are not a JSON object) that change
 * nothing.
 *
 * @example
 * ```ts
 * runKratosWebhookSuite({
 *   name: 'hono',
 *   createStore: createMemoryStore,
 *   mount(options) {
 *     const app = new Hono().route('/kratos', kratosWebhooks(options));
 *     return async (path, body, headers) => {
 *       const res = await app.request(path, { method: 'POST', headers, body });
 *       return { status: res.status, body: await res.json() };
 *     };
 *   },
 * });
 * ```
 */
export function runKratosWebhookSuite(options: KratosWebhookSuiteOptions): void {
  const setup = async () => {
    const store = await options.createStore();
    const invitations = createInvitationService({ store, secret: 'a-32-byte-secret-for-invitations!' });
    const provisioner = createProvisioner({ store, logger: quiet });
    const send = await options.mount({
      invitations,
      provisioner,
      apiKey: KRATOS_TEST_API_KEY,
      issuer: ISSUER,
    });
    /** A string body is sent as is, anything else as JSON; `key` null sends no API key. */
    const post = async (path: string, body: unknown, key: string | null = KRATOS_TEST_API_KEY) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (key !== null) headers['x-api-key'] = key;
      const res = await send(path, typeof body === 'string' ? body : JSON.stringify(body), headers);
      return res as { status: number; body: Record<string, unknown> };
    };
    return { post, store, invitations };
  };

  describe(`kratosWebhooks: ${options.name}`, () => {
    it('check-invitation: 200 with the invitation role for the whole ctx and the flat shape; 400 Kratos body otherwise', async () => {
      const { post, invitations } = await setup();
      const { token } = await invitations.create({
        email: 'ada@example.com',
        role: 'editor',
        invitedBy: 'x',
      });
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
      const { token } = await invitations.create({
        email: 'ada@example.com',
        role: 'editor',
        invitedBy: 'x',
      });
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
        expect(await post(path, body, null)).toMatchObject({
          status: 401,
          body: { error: 'invalid_api_key' },
        });
        expect((await post(path, body, 'wrong-key-0123456789')).status).toBe(401);
        const big = await post(path, { ...body, pad: 'x'.repeat(1024 * 1024) });
        expect(big).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
        expect((await post(path, '{')).status).toBe(400);
        expect((await post(path, [1, 2])).status).toBe(400);
      }
      expect(await store.lookup({ issuer: ISSUER, subject: body.identity.id })).toBeNull();
      expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
    });

    it('a 12 KB body nesting its traits ~6,000 deep → 400 invalid_request, nothing changed, the app keeps answering', async () => {
      const { post, store, invitations } = await setup();
      const { token } = await invitations.create({ email: 'ada@example.com', invitedBy: 'x' });
      const body = kratosContext(token, 'ada@example.com');
      // The handler echoes the traits: serialising them used to overflow the stack (Express exited).
      const text = JSON.stringify(body).replace('"role":"admin"', `"role":${deepJson(6_000)}`);
      expect(text.length).toBeLessThan(64 * 1024);
      for (const path of [
        '/kratos/check-invitation',
        '/kratos/consume-invitation',
        '/kratos/provision-identity',
      ]) {
        expect(await post(path, text)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      }
      expect(await store.lookup({ issuer: ISSUER, subject: body.identity.id })).toBeNull();
      expect(await invitations.list({ status: 'pending' })).toHaveLength(1);
      expect((await post('/kratos/check-invitation', body)).status).toBe(200);
    });
  });
}
