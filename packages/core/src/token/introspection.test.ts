import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createMemoryStore } from '@jit-provision/store-memory';
import Provider, { type ResourceServer as ResourceServerShape } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isJitProvisionError, toHttpResponse } from '../errors';
import { createProvisioner } from '../provisioning';
import type { IntrospectionConfig, IssuerConfig } from '../types';
import { createTokenVerifier } from './verifier';

// A real OpenID Provider (oidc-provider) issuing opaque access tokens for RESOURCE, with RFC 7662
// introspection, revocation and client credentials, on a loopback port; every introspection call is counted.

const RESOURCE = 'https://api.opaque.test';
const API = { id: 'orders-api', secret: randomBytes(24).toString('hex') };
const SVC = { id: 'billing-svc', secret: randomBytes(24).toString('hex') };
const API_JWT = 'orders-api-jwt';
const API_SIGNED = { id: 'orders-api-signed', secret: randomBytes(24).toString('hex') };
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privateJwk = { ...privateKey.export({ format: 'jwk' }), kty: 'EC', kid: 'k1' };
const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'ES256' };

let op: Server;
let provider: Provider;
let issuer: string;
let introspections = 0;
let userinfoCalls = 0;
/** The content type of each introspection answer, in order. */
const answerTypes: string[] = [];
const silent = { warn: () => {}, error: () => {} };

beforeAll(async () => {
  op = createServer();
  await new Promise<void>((resolve) => op.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(op.address() as { port: number }).port}`;
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: API.id,
        client_secret: API.secret,
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
      {
        client_id: API_SIGNED.id,
        client_secret: API_SIGNED.secret,
        introspection_signed_response_alg: 'RS256',
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
      {
        client_id: API_JWT,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [publicJwk] },
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
      {
        client_id: SVC.id,
        client_secret: SVC.secret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
        scope: 'orders:read',
      },
    ],
    scopes: ['openid', 'email', 'profile', 'orders:read', 'orders:write'],
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      jwtIntrospection: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'orders:read orders:write',
          audience: RESOURCE,
          accessTokenFormat: 'opaque',
          accessTokenTTL: 600,
        }),
      },
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@example.com`, email_verified: true, name: `Name of ${id}` }),
    }),
  });
  const callback = provider.callback();
  op.on('request', (req, res) => {
    if (req.url === '/me') userinfoCalls++;
    if (req.url === '/token/introspection') {
      introspections++;
      res.on('finish', () => answerTypes.push(String(res.getHeader('content-type'))));
    }
    callback(req, res);
  });
}, 30_000);

afterAll(() => new Promise<void>((resolve) => op?.close(() => resolve())));

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** A client-credentials token from the provider's token endpoint. */
async function clientToken(): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(SVC.id, SVC.secret),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: RESOURCE }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (body.access_token === undefined) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** An opaque user access token minted through the provider's own API (what its token endpoint would issue). */
async function userToken(accountId: string): Promise<string> {
  const client = await provider.Client.find(SVC.id);
  if (client === undefined) throw new Error('no client');
  // A grant as an authorization-code flow leaves behind: introspection checks the token against it.
  const grant = new provider.Grant({ accountId, clientId: SVC.id });
  grant.addResourceScope(RESOURCE, 'orders:read');
  const grantId = await grant.save();
  // oidc-provider's runtime class; its types only describe the shape.
  const { ResourceServer } = provider as unknown as {
    ResourceServer: new (id: string, info: object) => ResourceServerShape;
  };
  const token = new provider.AccessToken({
    accountId,
    grantId,
    gty: 'authorization_code',
    client,
    scope: 'orders:read',
    resourceServer: new ResourceServer(RESOURCE, {
      audience: RESOURCE,
      scope: 'orders:read',
      accessTokenFormat: 'opaque',
    }),
  });
  return token.save();
}

/** An opaque token for the provider's own userinfo endpoint (no resource, so no `aud`): what Auth0 issues without an API audience. */
async function userinfoToken(accountId: string): Promise<string> {
  const client = await provider.Client.find(SVC.id);
  if (client === undefined) throw new Error('no client');
  const scope = 'openid email profile';
  const grant = new provider.Grant({ accountId, clientId: SVC.id });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  return new provider.AccessToken({ accountId, grantId, gty: 'authorization_code', client, scope }).save();
}

async function revoke(token: string): Promise<void> {
  const res = await fetch(`${issuer}/token/revocation`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(SVC.id, SVC.secret),
    },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  expect(res.status).toBe(200);
}

function setup(
  introspection: { [K in keyof IntrospectionConfig]?: IntrospectionConfig[K] | undefined } = {},
  extra: Partial<IssuerConfig> = {},
) {
  const store = createMemoryStore();
  const provisioner = createProvisioner({
    store,
    issuers: [
      {
        issuer,
        audience: RESOURCE,
        introspection: {
          clientId: API.id,
          clientSecret: API.secret,
          ...introspection,
        } as IntrospectionConfig,
        ...extra,
      },
    ],
    logger: silent,
  });
  const upsert = vi.spyOn(store, 'upsert');
  const call = (token: string) => provisioner.authenticate({ headers: { authorization: `Bearer ${token}` } });
  return { store, provisioner, call, upsert };
}

/** The HTTP answer a failed call maps to. */
const answerOf = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ status: 200, code: undefined, reason: undefined, retryAfter: undefined }),
    (err: unknown) => ({
      status: toHttpResponse(err).status,
      code: isJitProvisionError(err) ? err.code : 'not ours',
      reason: (err as { reason?: unknown }).reason,
      retryAfter: toHttpResponse(err).headers['Retry-After'],
    }),
  );

async function until(check: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('deadline passed');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('opaque access tokens introspected at a real provider (oidc-provider)', () => {
  it('a client-credentials token is a client: no row, scopes from the answer; cached afterwards', async () => {
    const { call, upsert } = setup();
    const token = await clientToken();
    const before = introspections;
    const first = await call(token);
    expect(first).toMatchObject({
      kind: 'client',
      user: null,
      client: { id: SVC.id, issuer, scopes: ['orders:read'] },
    });
    await call(token);
    expect(introspections - before).toBe(1);
    expect(upsert).not.toHaveBeenCalled();
  });

  it('an opaque user token creates the user once; concurrent first calls share one introspection', async () => {
    const { call, store } = setup();
    const token = await userToken(`alice-${randomBytes(3).toString('hex')}`);
    const before = introspections;
    const results = await Promise.all(Array.from({ length: 20 }, () => call(token)));
    expect(introspections - before).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.user?.id)).size).toBe(1);
    expect(results[0]).toMatchObject({
      kind: 'user',
      claims: { iss: issuer, aud: RESOURCE, scope: 'orders:read' },
    });
    expect((await store.lookup(results[0]?.identity as never))?.id).toBe(results[0]?.user?.id);
  });

  it('a token revoked at the provider is refused within the cache TTL (401 invalid_token, reason inactive)', async () => {
    const { call } = setup({ cacheTtlMs: 200 });
    const token = await userToken('bob');
    expect((await call(token)).kind).toBe('user');
    await revoke(token);
    await until(async () => (await answerOf(call(token))).status === 401);
    expect(await answerOf(call(token))).toMatchObject({
      status: 401,
      code: 'invalid_token',
      reason: 'inactive',
    });
  });

  it('revokeSessions and disable reach a user authenticated by introspection (cached answer included)', async () => {
    const { call, provisioner } = setup();
    const token = await userToken(`carol-${randomBytes(3).toString('hex')}`);
    const { user } = await call(token);
    await provisioner.revokeSessions(user?.id as string);
    expect(await answerOf(call(token))).toMatchObject({ status: 401, reason: 'token_revoked' });
    const other = await userToken(`dave-${randomBytes(3).toString('hex')}`);
    const dave = await call(other);
    await provisioner.disable(dave.user?.id as string);
    expect(await answerOf(call(other))).toMatchObject({ status: 403, code: 'user_disabled' });
  });

  it('a token for another audience is refused (wrong_audience), a garbage token is inactive', async () => {
    const { call } = setup({}, { audience: 'https://other.example' });
    expect(await answerOf(call(await userToken('erin')))).toMatchObject({
      status: 401,
      reason: 'wrong_audience',
    });
    expect(await answerOf(call('not-a-token-at-all'))).toMatchObject({ status: 401, reason: 'inactive' });
  });

  it('private_key_jwt (RFC 7523) client authentication, and the endpoint from discovery', async () => {
    const { call } = setup({ clientId: API_JWT, clientSecret: undefined, privateKeyJwt: privateJwk });
    expect(await call(await clientToken())).toMatchObject({ kind: 'client', client: { id: SVC.id } });
  });

  it('an answer signed as a JWT (RFC 9701) is verified with the issuer keys', async () => {
    const { call } = setup({ clientId: API_SIGNED.id, clientSecret: API_SIGNED.secret });
    const token = await userToken(`frank-${randomBytes(3).toString('hex')}`);
    expect(await call(token)).toMatchObject({
      kind: 'user',
      claims: { aud: RESOURCE, scope: 'orders:read' },
    });
    expect(await answerOf(call('garbage-token'))).toMatchObject({ status: 401, reason: 'inactive' });
  });

  it('negativeCacheMs remembers an inactive answer (one call for repeats); off by default', async () => {
    const on = setup({ negativeCacheMs: 60_000 });
    let before = introspections;
    for (let i = 0; i < 5; i++)
      expect(await answerOf(on.call('garbage-x'))).toMatchObject({ reason: 'inactive' });
    expect(introspections - before).toBe(1);
    const off = setup();
    before = introspections;
    for (let i = 0; i < 5; i++)
      expect(await answerOf(off.call('garbage-y'))).toMatchObject({ reason: 'inactive' });
    expect(introspections - before).toBe(5);
  });

  it('10,000 random opaque strings cost at most the call budget (burst + rate × time) at the provider', async () => {
    const rate = { perSecond: 20, burst: 30 };
    const verifier = createTokenVerifier(
      [{ issuer, audience: RESOURCE, introspection: { clientId: API.id, clientSecret: API.secret } }],
      { introspectionRate: rate, logger: silent },
    );
    const before = introspections;
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 10_000 }, () => answerOf(verifier.verify(randomBytes(32).toString('base64url')))),
    );
    const seconds = (Date.now() - started) / 1000;
    const calls = introspections - before;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(rate.burst + Math.ceil(rate.perSecond * seconds) + 1);
    for (const answer of answers) {
      expect([
        ['invalid_token', 401],
        ['provisioning_unavailable', 503],
      ]).toContainEqual([answer.code, answer.status]);
    }
  });
});

describe('userinfo at first login (oidc-provider)', () => {
  const withUserinfo = (userinfo: 'first-login' | 'always') => setup({}, { audience: false, userinfo });

  it("'first-login' fills email and name from userinfo once, when the user is created", async () => {
    const { call } = withUserinfo('first-login');
    const id = `gina-${randomBytes(3).toString('hex')}`;
    const before = userinfoCalls;
    const first = await call(await userinfoToken(id));
    expect(first).toMatchObject({
      kind: 'user',
      created: true,
      user: { email: `${id}@example.com`, name: `Name of ${id}` },
    });
    expect(first.identity).toMatchObject({ email: `${id}@example.com`, emailVerified: true });
    expect(userinfoCalls - before).toBe(1);
    // A later login (a new token) of the same user: the row exists, userinfo is not asked.
    const again = await call(await userinfoToken(id));
    expect(again).toMatchObject({ created: false, user: { id: first.user?.id } });
    expect(userinfoCalls - before).toBe(1);
  });

  it("'always' asks once per token (a cached token keeps its profile), not per request", async () => {
    const { call } = withUserinfo('always');
    const id = `hank-${randomBytes(3).toString('hex')}`;
    const before = userinfoCalls;
    const token = await userinfoToken(id);
    for (let i = 0; i < 3; i++) await call(token);
    expect(userinfoCalls - before).toBe(1);
    await call(await userinfoToken(id));
    expect(userinfoCalls - before).toBe(2);
  });

  it('off by default: the user is created from the answer alone', async () => {
    const { call } = setup({}, { audience: false });
    const before = userinfoCalls;
    const result = await call(await userinfoToken(`ivy-${randomBytes(3).toString('hex')}`));
    expect(result.user?.email).toBeNull();
    expect(userinfoCalls - before).toBe(0);
  });
});

describe('an introspection endpoint that fails', () => {
  it('connection refused → 503 provisioning_unavailable with Retry-After, then backoff (no call)', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(dead.address() as { port: number }).port}/introspect`;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const { call } = setup({ endpoint });
    const answer = await answerOf(call('opaque-token-1'));
    expect(answer).toMatchObject({ status: 503, code: 'provisioning_unavailable' });
    expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('a 500 → 503; while backing off no call is made; after it, the endpoint is asked again', async () => {
    let calls = 0;
    let healthy = false;
    const flaky = createServer((_req, res) => {
      calls++;
      res.writeHead(healthy ? 200 : 500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ active: false }));
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(flaky.address() as { port: number }).port}/introspect`;
      const { call } = setup({ endpoint });
      expect(await answerOf(call('opaque-a'))).toMatchObject({
        status: 503,
        code: 'provisioning_unavailable',
      });
      const during = await Promise.all(Array.from({ length: 50 }, (_, i) => answerOf(call(`opaque-b${i}`))));
      expect(calls).toBe(1);
      expect(during.every((a) => a.status === 503)).toBe(true);
      healthy = true;
      await until(async () => (await answerOf(call('opaque-c'))).status === 401);
      expect(calls).toBe(2);
    } finally {
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
    }
  });
});
