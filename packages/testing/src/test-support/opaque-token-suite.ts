// Test support (not exported; the adapters' tests import it): one adapter's opaque-token cases against a real OpenID Provider (oidc-provider) issuing opaque
// access tokens, introspected by the API. Each adapter passes only how it mounts `jitProvision` and a scope
// guard; the provider, the tokens and the cases are written once, here.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AuthResult, createProvisioner, type Provisioner, type Store } from '@jit-provision/core';
import Provider, { type ResourceServer as ResourceServerShape } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RESOURCE = 'https://api.opaque.test';
const API = { id: 'orders-api', secret: randomBytes(24).toString('hex') };
const SVC = { id: 'billing-svc', secret: randomBytes(24).toString('hex') };
let op: Server;
let provider: Provider;
let issuer: string;

/** Serve the provider on loopback for the suite (its hooks, registered inside the suite's describe). */
function serveProvider(): void {
  beforeAll(async () => {
    op = createServer();
    await new Promise<void>((resolve) => op.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(op.address() as { port: number }).port}`;
    const none = { redirect_uris: [], response_types: [] };
    provider = new Provider(issuer, {
      clients: [
        { client_id: API.id, client_secret: API.secret, grant_types: [], ...none },
        {
          client_id: SVC.id,
          client_secret: SVC.secret,
          grant_types: ['client_credentials'],
          scope: 'orders:read',
          ...none,
        },
      ],
      scopes: ['openid', 'orders:read'],
      features: {
        devInteractions: { enabled: false },
        introspection: { enabled: true },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: 'orders:read',
            audience: RESOURCE,
            accessTokenFormat: 'opaque',
          }),
        },
      },
    });
    op.on('request', provider.callback());
  }, 30_000);
  afterAll(() => new Promise<void>((resolve) => op?.close(() => resolve())));
}

async function clientToken(): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${SVC.id}:${SVC.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: RESOURCE }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function userToken(accountId: string, scope: string): Promise<string> {
  const client = await provider.Client.find(SVC.id);
  if (client === undefined) throw new Error('no client');
  // A grant as an authorization-code flow leaves behind: introspection checks the token against it.
  const grant = new provider.Grant({ accountId, clientId: SVC.id });
  grant.addResourceScope(RESOURCE, scope);
  const grantId = await grant.save();
  // oidc-provider's runtime class; its types only describe the shape.
  const { ResourceServer } = provider as unknown as {
    ResourceServer: new (id: string, info: object) => ResourceServerShape;
  };
  const resourceServer = new ResourceServer(RESOURCE, {
    audience: RESOURCE,
    scope,
    accessTokenFormat: 'opaque',
  });
  return new provider.AccessToken({
    accountId,
    grantId,
    gty: 'authorization_code',
    client,
    scope,
    resourceServer,
  }).save();
}

function provisionerFor(store: Store, endpoint?: string) {
  return createProvisioner({
    store,
    issuers: [
      {
        issuer,
        audience: RESOURCE,
        introspection: {
          clientId: API.id,
          clientSecret: API.secret,
          ...(endpoint === undefined ? {} : { endpoint }),
        },
      },
    ],
    logger: { warn: () => {}, error: () => {} },
  });
}

/** A loopback URL nothing listens on: the introspection endpoint of a provider that is down. */
async function deadEndpoint(): Promise<string> {
  const dead = createServer();
  await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(dead.address() as { port: number }).port}/introspect`;
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  return url;
}

/** What the test route answers: the parts of `auth` the cases look at. */
export const opaqueTokenView = (auth: AuthResult | undefined | null) => ({
  kind: auth?.kind,
  user: auth?.user?.id ?? null,
  created: auth?.created,
});

/** What one request through the adapter answered. */
export interface OpaqueTokenAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/**
 * An app with `jitProvision(provisioner)` on every route and `GET /orders` behind a scope guard for
 * `orders:read` answering {@link opaqueTokenView} of the request's auth; answers `get(path, bearer token)`.
 */
export type OpaqueTokenApp = (
  provisioner: Provisioner,
) => Promise<(path: string, token: string) => Promise<OpaqueTokenAnswer>>;

/**
 * The opaque-token cases of one adapter: a client-credentials token is a client, a user token creates its
 * row once, a missing scope is 403, an unknown token 401, a provider down 503 with `Retry-After`.
 *
 * @example
 * ```ts
 * runOpaqueTokenSuite('express', async (provisioner) => { const server = express(); … return get; }, createMemoryStore);
 * ```
 */
export function runOpaqueTokenSuite(name: string, app: OpaqueTokenApp, createStore: () => Store): void {
  describe(`${name}: opaque tokens introspected at a real provider (oidc-provider)`, () => {
    serveProvider();
    it('a client-credentials token is a client; scopes guard on the answer', async () => {
      const get = await app(provisionerFor(createStore()));
      const token = await clientToken();
      expect(await get('/orders', token)).toMatchObject({
        status: 200,
        body: { kind: 'client', user: null },
      });
    });

    it('an opaque user token: a user row created once; a missing scope is 403', async () => {
      const get = await app(provisionerFor(createStore()));
      const token = await userToken('alice', 'orders:read');
      const first = await get('/orders', token);
      expect(first).toMatchObject({ status: 200, body: { kind: 'user', created: true } });
      expect(await get('/orders', token)).toMatchObject({
        status: 200,
        body: { kind: 'user', created: false, user: first.body['user'] },
      });
      const narrow = await userToken('alice', 'openid');
      expect(await get('/orders', narrow)).toMatchObject({
        status: 403,
        body: { error: 'insufficient_scope' },
      });
    });

    it('an unknown opaque token is 401 invalid_token; the provider down is 503 with Retry-After', async () => {
      const get = await app(provisionerFor(createStore()));
      expect(await get('/orders', 'no-such-token')).toMatchObject({
        status: 401,
        body: { error: 'invalid_token' },
      });
      const down = await app(provisionerFor(createStore(), await deadEndpoint()));
      const answer = await down('/orders', 'some-opaque-token');
      expect(answer).toMatchObject({ status: 503, body: { error: 'provisioning_unavailable' } });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    });
  });
}
