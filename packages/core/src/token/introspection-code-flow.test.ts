import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createMemoryStore } from '@jit-provision/store-memory';
import Provider from 'oidc-provider';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvisioner } from '../provisioning';

// The whole authorization-code flow, as an app runs it with `openid-client` against a real `oidc-provider`
// issuing opaque access tokens: the user token it ends with is introspected by the API.

const RESOURCE = 'https://api.opaque.test';
const REDIRECT = 'https://app.example/cb';
const APP = { id: 'web-app', secret: randomBytes(24).toString('hex') };
const API = { id: 'orders-api', secret: randomBytes(24).toString('hex') };
const ACCOUNT = `zoe-${randomBytes(3).toString('hex')}`;

let server: Server;
let provider: Provider;
let issuer: string;
let introspections = 0;

/** The login and consent pages: the account logs in at once and grants what the client asks. */
async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The interaction must exist (its cookie came with the request); what it asks is granted in one step.
  await provider.interactionDetails(req, res);
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId: APP.id });
  grant.addOIDCScope('openid');
  grant.addResourceScope(RESOURCE, 'orders:read');
  const grantId = await grant.save();
  const result = { login: { accountId: ACCOUNT }, consent: { grantId } };
  await provider.interactionFinished(req, res, result, {
    mergeWithLastSubmission: false,
  });
}

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: APP.id,
        client_secret: APP.secret,
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      {
        client_id: API.id,
        client_secret: API.secret,
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
    ],
    // orders:read is the resource server's scope (below), not one of the provider's own.
    scopes: ['openid'],
    pkce: { required: () => true },
    interactions: { url: (_ctx, found) => `/interaction/${found.uid}` },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'orders:read',
          audience: RESOURCE,
          accessTokenFormat: 'opaque',
          accessTokenTTL: 600,
        }),
      },
    },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url === '/token/introspection') introspections++;
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    callback(req, res);
  });
}, 30_000);

afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

/** A browser: follows the provider's redirects with its cookies until it is sent back to the app. */
async function browse(start: URL): Promise<URL> {
  const jar = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 10; hop++) {
    if (url.href.startsWith(REDIRECT)) return url;
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const location = res.headers.get('location');
    if (location === null)
      throw new Error(`no redirect at ${url.pathname}: ${res.status} ${await res.text()}`);
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}

describe('authorization-code flow with openid-client, then the opaque token at the API', () => {
  it('the access token the app obtains is introspected: a user, created once, scopes from the answer', async () => {
    const config = await client.discovery(new URL(issuer), APP.id, APP.secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authorize = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid orders:read',
      resource: RESOURCE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const back = await browse(authorize);
    const tokens = await client.authorizationCodeGrant(config, back, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const token = tokens.access_token;
    // Opaque: not a JWS, so only introspection can vouch for it.
    expect(token.split('.')).toHaveLength(1);

    const provisioner = createProvisioner({
      store: createMemoryStore(),
      issuers: [
        { issuer, audience: RESOURCE, introspection: { clientId: API.id, clientSecret: API.secret } },
      ],
      logger: { warn: () => {}, error: () => {} },
    });
    const before = introspections;
    const call = () => provisioner.authenticate({ headers: { authorization: `Bearer ${token}` } });
    const first = await call();
    expect(first).toMatchObject({
      kind: 'user',
      created: true,
      user: { subject: ACCOUNT },
      claims: { iss: issuer, aud: RESOURCE, client_id: APP.id, scope: 'orders:read' },
    });
    expect(await call()).toMatchObject({ created: false, user: { id: first.user?.id } });
    expect(introspections - before).toBe(1);
  });
});
