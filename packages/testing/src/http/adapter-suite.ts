import type { Provisioner, ProvisionerOptions, Store } from '@jit-provision/core';
import { createProvisioner, MissingTokenError } from '@jit-provision/core';
import type { JitProvisionOptions, Route } from '@jit-provision/core/adapter';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { withOutage } from '../store/outage-store';
import { suiteIssuers } from './issuers';

/** What an adapter test app answers; header names lower-case. */
export interface AdapterTestResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** An app built by {@link AdapterSuiteOptions.createApp}, driven through the real framework. */
export interface AdapterTestApp {
  /** GET `path` with `headers`. */
  request(path: string, headers?: Record<string, string>): Promise<AdapterTestResponse>;
  close?(): void | Promise<void>;
}

/** Options of {@link runAdapterSuite}. */
export interface AdapterSuiteOptions {
  /** Shown in the suite title. */
  name: string;
  /** A fresh, real store with `users` (e.g. the memory store); the matrix wraps it to simulate outages. */
  createStore: () => Store | Promise<Store>;
  /**
   * Build an app with the adapter's `jitProvision` mounted app-wide with `options`, routes `GET /me` and
   * `GET /public` that both answer 200 JSON `{ auth }` (the attached auth, or null), and `routes` mounted
   * under `/t` with the adapter's route-table mounter: after the middleware, as an app adds its admin API
   * to the README's Quick start, unless {@link tablesBeforeMiddleware}.
   */
  createApp(
    provisioner: Provisioner,
    options: JitProvisionOptions,
    routes: readonly Route[],
  ): AdapterTestApp | Promise<AdapterTestApp>;
  /**
   * The framework runs middleware before it routes (Express), so `jitProvision` cannot see that a route
   * needs no token: the app mounts route tables before it, as the adapter documents. The suite then does not
   * expect the middleware to verify a token sent to a public table route.
   */
  tablesBeforeMiddleware?: boolean;
}

interface AuthBody {
  auth: { user: { subject: string } | null; created: boolean; identity: { subject: string } } | null;
}

const AUD = 'matrix-api';

/** The suite-wide state every case's app is set up in. */
interface AdapterSuiteState {
  readonly options: AdapterSuiteOptions;
  /** The trusted local issuer, started in `beforeAll`. */
  readonly idp: DevIssuer;
  readonly apps: AdapterTestApp[];
}

/** What every case group of the adapter suite gets: a fresh app per case, the trusted and an untrusted issuer. */
interface AdapterSuite {
  readonly idp: DevIssuer;
  /** An issuer the provisioner does not trust. */
  readonly attacker: DevIssuer;
  fresh(label: string): string;
  setup(
    overrides?: Partial<Omit<ProvisionerOptions, 'store'>>,
    adapterOptions?: JitProvisionOptions,
    issuer?: DevIssuer,
  ): ReturnType<typeof setupCase>;
}

async function setupCase(
  { options, idp, apps }: AdapterSuiteState,
  overrides: Partial<Omit<ProvisionerOptions, 'store'>> = {},
  adapterOptions: JitProvisionOptions = {},
  issuer: DevIssuer = idp,
) {
  const outage = withOutage(await options.createStore());
  const provisioner = createProvisioner({
    store: outage.store,
    issuers: [{ issuer: issuer.issuer, audience: AUD }],
    logger: { warn: () => {}, error: () => {} },
    ...overrides,
  });
  const app = await options.createApp(provisioner, adapterOptions, TABLE);
  apps.push(app);
  const lookup = (subject: string) => {
    outage.setDown(false);
    return outage.store.lookup({ issuer: issuer.issuer, subject });
  };
  const get = (token: string | undefined, path = '/me') =>
    app.request(path, token === undefined ? {} : { authorization: `Bearer ${token}` });
  /** Rows held for `subject` (a refusal must never create one). */
  const rowsOf = async (subject: string) => {
    outage.setDown(false);
    const page = await provisioner.listUsers({ query: subject, limit: 500 });
    return page.users.filter((u) => u.issuer === issuer.issuer && u.subject === subject).length;
  };
  return { app, get, lookup, rowsOf, provisioner, setDown: outage.setDown };
}

/** The route table every case's app mounts under `/t`: one public route, one that checks for a token itself. */
const TABLE: readonly Route[] = [
  {
    method: 'GET',
    path: '/open',
    public: true,
    handler: async () => ({ status: 200, body: { open: true } }),
  },
  {
    method: 'GET',
    path: '/closed',
    authenticate: async ({ headers }) => {
      const value =
        typeof (headers as Headers).get === 'function'
          ? (headers as Headers).get('authorization')
          : (headers as Record<string, unknown>)['authorization'];
      if (value === undefined || value === null) throw new MissingTokenError();
      return {};
    },
    handler: async () => ({ status: 200, body: { closed: true } }),
  },
];

const expectInvalidToken = (response: AdapterTestResponse) => {
  expect(response.status).toBe(401);
  expect((response.body as { error: string }).error).toBe('invalid_token');
  expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  expect(response.headers['content-type']).toMatch(/^application\/json/);
};

/** Verification: a valid token passes; a missing, malformed or refused token is 401 and creates nobody. */
function verificationCases(suite: AdapterSuite): void {
  const { setup, fresh } = suite;
  it('valid token → 200 with the user attached, created on the first call only', async () => {
    const { get, lookup } = await setup();
    const sub = fresh('alice');
    const token = await suite.idp.mint({ sub, email: `${sub}@example.com` }, { audience: AUD });
    const first = await get(token);
    expect(first.status).toBe(200);
    expect((first.body as AuthBody).auth).toMatchObject({ created: true, user: { subject: sub } });
    const second = await get(token);
    expect(second.status).toBe(200);
    expect((second.body as AuthBody).auth).toMatchObject({ created: false, user: { subject: sub } });
    expect(await lookup(sub)).toMatchObject({ subject: sub });
  });

  it('no Authorization header → 401 missing_token with a bare Bearer challenge', async () => {
    const { get } = await setup();
    const response = await get(undefined);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect((response.body as { error: string }).error).toBe('missing_token');
  });

  it('malformed Authorization header → 401 invalid_token', async () => {
    const { app } = await setup();
    for (const authorization of ['Bearer', 'Bearer a b', 'Basic dXNlcjpwYXNz', 'Bearer not-a-jwt']) {
      expectInvalidToken(await app.request('/me', { authorization }));
    }
  });

  const refusals: Array<[string, (sub: string) => Promise<string>, Partial<ProvisionerOptions>?]> = [
    ['expired', (sub) => suite.idp.mint({ sub }, { audience: AUD, expiresIn: -60 })],
    ['nbf in the future', (sub) => suite.idp.mint({ sub }, { audience: AUD, notBefore: 120 })],
    ['wrong audience', (sub) => suite.idp.mint({ sub }, { audience: 'another-api' })],
    ['untrusted issuer', (sub) => suite.attacker.mint({ sub }, { audience: AUD })],
    ['unknown kid', (sub) => suite.idp.mint({ sub }, { audience: AUD, header: { kid: 'no-such-kid' } })],
    [
      'alg none',
      async (sub) =>
        new UnsecuredJWT({ sub, aud: AUD }).setIssuer(suite.idp.issuer).setExpirationTime('5m').encode(),
    ],
    [
      'HS256 signed with the public key as secret',
      async (sub) =>
        new SignJWT({ sub, aud: AUD })
          .setProtectedHeader({ alg: 'HS256', kid: suite.idp.currentKid })
          .setIssuer(suite.idp.issuer)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(await suite.idp.publicKeyPem())),
    ],
    [
      'tampered payload',
      async (sub) => {
        const [header, , signature] = (
          await suite.idp.mint({ sub: 'someone-else' }, { audience: AUD })
        ).split('.');
        const payload = Buffer.from(JSON.stringify({ iss: suite.idp.issuer, sub, aud: AUD, exp: 9e9 }));
        return `${header}.${payload.toString('base64url')}.${signature}`;
      },
    ],
    // Below Node's 16 KiB header limit, so every framework sees the request and the SDK refuses it.
    [
      'oversized token',
      (sub) => suite.idp.mint({ sub, padding: 'x'.repeat(6_000) }, { audience: AUD }),
      { maxTokenBytes: 4_096 },
    ],
  ];

  it.each(refusals)('%s → 401 invalid_token, nobody created', async (_name, makeToken, overrides) => {
    const { get, lookup } = await setup(overrides);
    const sub = fresh('victim');
    expectInvalidToken(await get(await makeToken(sub)));
    expect(await lookup(sub)).toBeNull();
  });
}

/** Provisioning: autoCreate off, inactive users, revoked sessions, a deleted user logging in again. */
function provisioningCases(suite: AdapterSuite): void {
  const { setup, fresh } = suite;
  it('autoCreate off → 403 user_not_provisioned, nobody created', async () => {
    const { get, lookup } = await setup({ autoCreate: false });
    const sub = fresh('stranger');
    const response = await get(await suite.idp.mint({ sub }, { audience: AUD }));
    expect(response.status).toBe(403);
    expect((response.body as { error: string }).error).toBe('user_not_provisioned');
    expect(await lookup(sub)).toBeNull();
  });

  it.each<[string, Partial<ProvisionerOptions>]>([
    ['user cache on', {}],
    ['user cache off', { userCache: false }],
  ])(
    'disabled user → 403 user_disabled on every path (%s), no row created; enable lets them back',
    async (_label, overrides) => {
      const { get, rowsOf, provisioner, setDown } = await setup(overrides);
      const sub = fresh('disabled');
      const token = await suite.idp.mint({ sub }, { audience: AUD });
      expect((await get(token)).status).toBe(200);
      const user = await provisioner.getUser({ issuer: suite.idp.issuer, subject: sub });
      await provisioner.disable(user?.id ?? '', { reason: 'test' });
      const expectDisabled = (response: AdapterTestResponse) => {
        expect(response.status).toBe(403);
        expect((response.body as { error: string }).error).toBe('user_disabled');
      };
      expectDisabled(await get(token));
      // A fresh token (another signature, so no token-cache entry) is refused too.
      expectDisabled(
        await get(await suite.idp.mint({ sub, email: `${sub}@example.com` }, { audience: AUD })),
      );
      if (overrides.userCache === undefined) {
        // The store is down: only the cached (disabled) row can answer, and it refuses.
        setDown(true);
        expectDisabled(await get(token));
        setDown(false);
      }
      expect(await rowsOf(sub)).toBe(1);
      await provisioner.enable(user?.id ?? '');
      expect((await get(token)).status).toBe(200);
    },
  );

  it('revoked sessions → 401 invalid_token for older tokens and iat-less ones (cache hit included); newer pass', async () => {
    const { get, rowsOf, provisioner, setDown } = await setup();
    const sub = fresh('revoked');
    const old = await suite.idp.mint({ sub }, { audience: AUD, issuedAt: -60 });
    const noIat = await suite.idp.mint({ sub, n: 1 }, { audience: AUD, issuedAt: false });
    expect((await get(old)).status).toBe(200);
    expect((await get(noIat)).status).toBe(200);
    await provisioner.revokeSessions({ issuer: suite.idp.issuer, subject: sub });
    expectInvalidToken(await get(old));
    expectInvalidToken(await get(noIat));
    // The user row is cached now; with the store down only the cache answers, and it still refuses.
    setDown(true);
    expectInvalidToken(await get(old));
    setDown(false);
    expect(await rowsOf(sub)).toBe(1);
    // Issued after the revocation (a whole second later: `iat` has one-second resolution).
    const fresh2 = await suite.idp.mint({ sub }, { audience: AUD, issuedAt: 2 });
    expect((await get(fresh2)).status).toBe(200);
  });

  it('a deleted user logging in again is a new first login, not a ban', async () => {
    const { get, rowsOf, provisioner } = await setup();
    const sub = fresh('deleted');
    const token = await suite.idp.mint({ sub }, { audience: AUD });
    const first = (await get(token)).body as AuthBody & { auth: { user: { id: string } } };
    await provisioner.deleteUser({ issuer: suite.idp.issuer, subject: sub });
    expect(await rowsOf(sub)).toBe(0);
    const again = await get(token);
    expect(again.status).toBe(200);
    const auth = (again.body as AuthBody & { auth: { user: { id: string } } }).auth;
    expect(auth).toMatchObject({ created: true, user: { subject: sub } });
    expect(auth.user.id).not.toBe(first.auth.user.id);
    expect(await rowsOf(sub)).toBe(1);
  });
}

/** A store outage (reject or continue), key rotation, and the adapter options `optional` and `skip`. */
function outageAndOptionCases(suite: AdapterSuite): void {
  const { setup, fresh } = suite;
  it("store down, 'reject' → 503 provisioning_unavailable with Retry-After", async () => {
    const { get, lookup, setDown } = await setup({ onProvisioningError: 'reject' });
    const sub = fresh('outage');
    setDown(true);
    const response = await get(await suite.idp.mint({ sub }, { audience: AUD }));
    expect(response.status).toBe(503);
    expect((response.body as { error: string }).error).toBe('provisioning_unavailable');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(await lookup(sub)).toBeNull();
  });

  it("store down, 'continue' → 200 with auth.user null", async () => {
    const { get, lookup, setDown } = await setup({ onProvisioningError: 'continue' });
    const sub = fresh('outage');
    setDown(true);
    const response = await get(await suite.idp.mint({ sub }, { audience: AUD }));
    expect(response.status).toBe(200);
    expect((response.body as AuthBody).auth).toMatchObject({
      user: null,
      created: false,
      identity: { subject: sub },
    });
    expect(await lookup(sub)).toBeNull();
  });

  it('key rotation: a new kid is verified once the JWKS cooldown has passed', async () => {
    const rotating = await createDevIssuer();
    try {
      const { get, lookup } = await setup({}, {}, rotating);
      const sub = fresh('rotator');
      expect((await get(await rotating.mint({ sub }, { audience: AUD }))).status).toBe(200);
      expect(rotating.jwksHits).toBe(1);
      await rotating.rotateKeys();
      const other = fresh('rotator');
      // Within jose's 30 s cooldown an unknown kid is refused without a refetch (flood protection)...
      expectInvalidToken(await get(await rotating.mint({ sub: other }, { audience: AUD })));
      expect(rotating.jwksHits).toBe(1);
      expect(await lookup(other)).toBeNull();
      // ...and after it, the new key is fetched once and accepted.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 31_000);
      const response = await get(await rotating.mint({ sub: other }, { audience: AUD }));
      expect(response.status).toBe(200);
      expect((response.body as AuthBody).auth).toMatchObject({ created: true, user: { subject: other } });
      expect(rotating.jwksHits).toBe(2);
    } finally {
      vi.useRealTimers();
      await rotating.close();
    }
  });

  it('optional: no header → 200 with auth null; an invalid token is still 401', async () => {
    const { get } = await setup({}, { optional: true });
    const anonymous = await get(undefined);
    expect(anonymous.status).toBe(200);
    expect((anonymous.body as AuthBody).auth ?? null).toBeNull();
    expectInvalidToken(
      await get(await suite.idp.mint({ sub: fresh('late') }, { audience: AUD, expiresIn: -60 })),
    );
    const ok = await get(await suite.idp.mint({ sub: fresh('opt') }, { audience: AUD }));
    expect((ok.body as AuthBody).auth).toMatchObject({ created: true });
  });

  it('skip: skipped paths pass without a token, others still require one', async () => {
    const { get } = await setup({}, { skip: (path, method) => path === '/public' && method === 'GET' });
    const open = await get(undefined, '/public');
    expect(open.status).toBe(200);
    expect((open.body as AuthBody).auth ?? null).toBeNull();
    expect((await get(undefined, '/public?x=1')).status).toBe(200);
    expect((await get(undefined, '/me')).status).toBe(401);
  });
}

/** `skip` sees the routed path; a public route of a mounted table needs no token, whatever the order. */
function routingCases(suite: AdapterSuite, options: AdapterSuiteOptions): void {
  const { setup, fresh } = suite;
  it('skip gets the decoded path the router matches: `/%6De` is `/me`, so a negative test cannot be bypassed', async () => {
    const seen: string[] = [];
    const skip = (path: string) => {
      seen.push(path);
      return !path.startsWith('/me');
    };
    const { get } = await setup({}, { skip });
    for (const path of ['/%6De', '/%6de?x=1', '/m%65']) {
      const res = await get(undefined, path);
      // Routed to `/me` (Fastify, Hono decode before routing) or to nothing (Express): never served unauthenticated.
      expect(res.status, path).toBe(401);
      expect((res.body as { error: string }).error, path).toBe('missing_token');
    }
    expect(new Set(seen)).toEqual(new Set(['/me']));
    expect((await get(undefined, '/public')).status).toBe(200);
  });

  it("the admin API's public peek, app-wide middleware: a table's public route needs no token; its others still refuse", async () => {
    const { get } = await setup();
    expect(await get(undefined, '/t/open')).toMatchObject({ status: 200, body: { open: true } });
    const token = await suite.idp.mint({ sub: fresh('reader') }, { audience: AUD });
    expect((await get(token, '/t/open')).status).toBe(200);
    expect(await get(undefined, '/t/closed')).toMatchObject({
      status: 401,
      body: { error: 'missing_token' },
    });
    expect((await get(undefined, '/me')).status).toBe(401);
    if (options.tablesBeforeMiddleware) return;
    // A token that is present is verified as on every route: public means "needs none", not "any will do".
    const expired = await suite.idp.mint({ sub: fresh('late') }, { audience: AUD, expiresIn: -60 });
    expectInvalidToken(await get(expired, '/t/open'));
    expectInvalidToken(await get('not-a-jwt', '/t/open'));
  });
}

/**
 * The HTTP behaviour every adapter must share, run against the real framework: valid token (created once),
 * missing/malformed/expired/not-yet-valid/wrong-audience/untrusted/unknown-kid/`alg: none`/key-confusion/
 * tampered/oversized tokens, `autoCreate: false`, disabled users (403 `user_disabled`) and revoked sessions
 * (401) on every path including cache hits, re-login after delete, store outages in both modes, key
 * rotation, `optional` and `skip` (on the decoded, routed path), and a mounted route table's public route
 * passing the app-wide middleware without a token (never with an invalid one). The store must have `users` (the lifecycle part). Every failure also asserts that no user was created.
 *
 * @example
 * ```ts
 * import { runAdapterSuite } from '@jit-provision/testing';
 * import { createMemoryStore } from '@jit-provision/store-memory';
 *
 * runAdapterSuite({
 *   name: 'hono',
 *   createStore: createMemoryStore,
 *   createApp: (provisioner, options, routes) => {
 *     const app = new Hono();
 *     app.use('*', jitProvision(provisioner, options));
 *     app.get('/me', (c) => c.json({ auth: c.get('auth') }));
 *     app.get('/public', (c) => c.json({ auth: c.get('auth') }));
 *     app.route('/t', subApp(routes));
 *     return { request: async (path, headers) => { const r = await app.request(path, { headers }); ... } };
 *   },
 * });
 * ```
 */
export function runAdapterSuite(options: AdapterSuiteOptions): void {
  describe(`adapter suite: ${options.name}`, () => {
    const apps: AdapterTestApp[] = [];
    let counter = 0;
    const fresh = (label: string) => `${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
    // Two issuers: the trusted one, and an attacker's whose tokens must be refused.
    const started = suiteIssuers('adapter suite', 2, apps) as () => [DevIssuer, DevIssuer];
    const suite: AdapterSuite = {
      get idp() {
        return started()[0];
      },
      get attacker() {
        return started()[1];
      },
      fresh,
      setup: (overrides, adapterOptions, issuer) =>
        setupCase({ options, idp: started()[0], apps }, overrides, adapterOptions, issuer),
    };
    verificationCases(suite);
    provisioningCases(suite);
    outageAndOptionCases(suite);
    routingCases(suite, options);
  });
}
