import type { Provisioner, RoleMapping, Store, UserRecord } from '@jit-provision/core';
import { createProvisioner } from '@jit-provision/core';
import type { JitProvisionOptions } from '@jit-provision/core/adapter';
import {
  type ClaimsPredicate,
  type GuardFactories,
  MAX_GUARD_CLAIM_ITEMS,
} from '@jit-provision/core/adapter';
import type { DevIssuer } from '@jit-provision/core/dev';
import { describe, expect, it } from 'vitest';
import { withOutage } from '../store/outage-store';
import type { AdapterTestApp, AdapterTestResponse } from './adapter-suite';
import { suiteIssuer } from './issuers';

/** A route the guard suite asks for: `GET path` behind `guards`, in order. */
export interface GuardTestRoute<H> {
  path: string;
  guards: H[];
}

/** Options of {@link runGuardSuite}. */
export interface GuardSuiteOptions<H> {
  /** Shown in the suite title. */
  name: string;
  /** A fresh, real store (e.g. the memory store). */
  createStore: () => Store | Promise<Store>;
  /** The adapter's exported guards: `{ requireRole, requireUser, requireScopes, requirePermissions, requireClaims }`. */
  guards: GuardFactories<H>;
  /**
   * Build an app with the adapter's `jitProvision` mounted app-wide with `options` and, for each of `routes`,
   * `GET path` behind its guards (in order, the framework's own way) answering 200 JSON `{ ok: true }`.
   * The app must accept request headers up to 256 KiB: the hostile cases send 10,000-item claims.
   */
  createApp(
    provisioner: Provisioner,
    options: JitProvisionOptions,
    routes: GuardTestRoute<H>[],
  ): AdapterTestApp | Promise<AdapterTestApp>;
  /**
   * The largest header value, in bytes, the app's server lets through where that limit cannot be raised
   * (`Deno.serve` refuses a request head of 64 KiB with a 400). A hostile case whose token is longer must
   * then be refused by the server itself (400 or 431) instead of by the guard: still never a 500.
   */
  serverHeaderLimit?: number;
}

interface ErrorBody {
  error?: string;
  error_description?: string;
}

const AUD = 'guard-api';
const CHALLENGE_ALL = 'Bearer error="insufficient_scope", scope="read:a write:a"';

/** A store whose users come back with the `status` set for their subject (the lifecycle's field, simulated). */
function withStatuses(store: Store, statuses: Map<string, string>): Store {
  const mark = (user: UserRecord | null) => {
    const status = user === null ? undefined : statuses.get(user.subject);
    return status === undefined || user === null ? user : { ...user, status };
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'lookup' || property === 'getUser' || property === 'sync') {
        return async (...args: unknown[]) => mark(await value.apply(target, args));
      }
      if (property === 'upsert' || property === 'lookupOrCreate') {
        return async (...args: unknown[]) => {
          const result = await value.apply(target, args);
          return { ...result, user: mark(result.user) };
        };
      }
      return value;
    },
  });
}

/** A JSON object with an own `__proto__` key, as a token's JSON can carry (a literal would set the prototype). */
const withProtoKey = (json: string): Record<string, unknown> => JSON.parse(json) as Record<string, unknown>;

/** The suite-wide state every case's app is set up in. */
interface GuardSuiteState<H> {
  readonly options: GuardSuiteOptions<H>;
  /** The local issuer, started in `beforeAll`. */
  readonly idp: DevIssuer;
  readonly apps: AdapterTestApp[];
  fresh(label: string): string;
}

/** What every case group of the guard suite gets: the adapter's guards, a fresh app per case, the issuer. */
interface GuardSuite<H> extends GuardFactories<H> {
  readonly idp: DevIssuer;
  fresh(label: string): string;
  setup(
    overrides?: { onProvisioningError?: 'reject' | 'continue' },
    adapterOptions?: JitProvisionOptions,
    roles?: RoleMapping,
  ): ReturnType<typeof setupCase<H>>;
}

/** The routes every case's app mounts, one per guard shape. */
function guardRoutes<H>({
  requireRole,
  requireUser,
  requireScopes,
  requirePermissions,
  requireClaims,
}: GuardFactories<H>): GuardTestRoute<H>[] {
  return [
    { path: '/role/admin', guards: [requireRole('admin')] },
    { path: '/role/any', guards: [requireRole('editor', 'admin')] },
    { path: '/scopes/all', guards: [requireScopes(['read:a', 'write:a'])] },
    { path: '/scopes/any', guards: [requireScopes(['read:a', 'write:a'], { match: 'any' })] },
    { path: '/scopes/one', guards: [requireScopes('read:a')] },
    { path: '/perms/all', guards: [requirePermissions(['read:x', 'write:x'])] },
    { path: '/perms/any', guards: [requirePermissions(['read:x', 'write:x'], { match: 'any' })] },
    { path: '/claims', guards: [requireClaims((claims) => claims['tier'] === 'gold')] },
    {
      path: '/claims/throws',
      guards: [requireClaims((claims) => (claims['org'] as { id: string }).id === 'acme')],
    },
    {
      path: '/claims/async',
      guards: [requireClaims((async () => true) as unknown as ClaimsPredicate)],
    },
    { path: '/chain', guards: [requireRole('admin'), requireScopes('write:a')] },
    { path: '/user', guards: [requireUser()] },
    { path: '/role/admin-or-client', guards: [requireRole(['admin'], { clients: true })] },
    { path: '/client/scoped', guards: [requireRole('admin', { clients: true }), requireScopes('write:a')] },
  ];
}

async function setupCase<H>(
  { options, idp, apps, fresh }: GuardSuiteState<H>,
  overrides: { onProvisioningError?: 'reject' | 'continue' } = {},
  adapterOptions: JitProvisionOptions = {},
  roles?: RoleMapping,
) {
  const statuses = new Map<string, string>();
  const outage = withOutage(withStatuses(await options.createStore(), statuses));
  const provisioner = createProvisioner({
    store: outage.store,
    issuers: [{ issuer: idp.issuer, audience: AUD, ...(roles === undefined ? {} : { roles }) }],
    logger: { warn: () => {}, error: () => {} },
    // The hostile cases carry 10,000-item claims; the guard, not the token size limit, must refuse them.
    maxTokenBytes: 256 * 1024,
    ...overrides,
  });
  const app = await options.createApp(provisioner, adapterOptions, guardRoutes(options.guards));
  apps.push(app);
  /** A fresh user (stored role `role`) and a GET with a token carrying `claims`. */
  const as = async (claims: Record<string, unknown> = {}, role?: string) => {
    const sub = fresh('caller');
    if (role !== undefined) await provisioner.preProvision({ issuer: idp.issuer, subject: sub, role });
    const token = await idp.mint({ ...claims, sub }, { audience: AUD });
    const limit = options.serverHeaderLimit;
    return {
      sub,
      /** The server refuses this token before the app runs (see `serverHeaderLimit`). */
      overServerLimit: limit !== undefined && `Bearer ${token}`.length > limit,
      get: (path: string) => app.request(path, { authorization: `Bearer ${token}` }),
    };
  };
  return { app, as, statuses, setDown: outage.setDown, provisioner };
}

const expectRefused = (response: AdapterTestResponse, status: number, error: string) => {
  expect({ status: response.status, error: (response.body as ErrorBody).error }).toEqual({
    status,
    error,
  });
  expect(response.headers['content-type']).toMatch(/^application\/json/);
};
/** A request head over the server's own limit: the server answers before any app code runs. */
const expectServerRefused = (response: AdapterTestResponse) => {
  expect([400, 431]).toContain(response.status);
};
const expectForbidden = (response: AdapterTestResponse) => {
  expectRefused(response, 403, 'forbidden');
  expect(response.headers['www-authenticate']).toBeUndefined();
};
const expectInsufficientScope = (response: AdapterTestResponse, challenge = CHALLENGE_ALL) => {
  expectRefused(response, 403, 'insufficient_scope');
  expect(response.headers['www-authenticate']).toBe(challenge);
};
const expectOk = (response: AdapterTestResponse) => {
  expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: { ok: true } });
};

/** `requireRole`: the stored role only, and roles mapped from the provider's claims. */
function roleCases<H>(suite: GuardSuite<H>): void {
  const { setup, fresh } = suite;
  describe('requireRole', () => {
    it('lets a user with one of the roles through', async () => {
      const { as } = await setup();
      const admin = await as({}, 'admin');
      expectOk(await admin.get('/role/admin'));
      expectOk(await admin.get('/role/any'));
      const editor = await as({}, 'editor');
      expectOk(await editor.get('/role/any'));
      expectForbidden(await editor.get('/role/admin'));
    });

    it('refuses other roles with 403 forbidden that names no role', async () => {
      const { as } = await setup();
      const user = await as();
      for (const path of ['/role/admin', '/role/any']) {
        const response = await user.get(path);
        expectForbidden(response);
        expect(JSON.stringify(response.body)).not.toMatch(/admin|editor/);
      }
    });

    it('never takes the role from token claims', async () => {
      const { as } = await setup();
      const claimer = await as({ role: 'admin', roles: ['admin'], realm_access: { roles: ['admin'] } });
      expectForbidden(await claimer.get('/role/admin'));
    });
  });

  describe('requireRole with roles from the provider (IssuerConfig.roles)', () => {
    const roles: RoleMapping = {
      claim: 'groups',
      map: { admins: 'admin' },
      allow: ['admin', 'user'],
      default: 'user',
    };
    const withGroups = async (app: AdapterTestApp, sub: string, groups: string[]) => {
      const token = await suite.idp.mint({ sub, groups }, { audience: AUD });
      return app.request('/role/admin', { authorization: `Bearer ${token}` });
    };

    it('a demotion at the provider takes effect on the next request with a new token, caches on', async () => {
      const { app } = await setup({}, {}, roles);
      const sub = fresh('mapped');
      const adminToken = await suite.idp.mint({ sub, groups: ['admins'] }, { audience: AUD });
      for (let i = 0; i < 3; i++)
        expectOk(await app.request('/role/admin', { authorization: `Bearer ${adminToken}` }));
      expectForbidden(await withGroups(app, sub, ['staff']));
      expectForbidden(await withGroups(app, sub, []));
    });

    it('a local grant survives logins whose claim maps to another role', async () => {
      const { app, provisioner } = await setup({}, {}, roles);
      const sub = fresh('local');
      expectForbidden(await withGroups(app, sub, ['staff']));
      await provisioner.setRole({ issuer: suite.idp.issuer, subject: sub }, 'admin');
      for (let i = 0; i < 3; i++) expectOk(await withGroups(app, sub, ['staff']));
    });
  });
}

/** `requireScopes` (`scope` and `scp`, all or any, the RFC 6750 challenge) and `requirePermissions`. */
function scopeAndPermissionCases<H>(suite: GuardSuite<H>): void {
  const { setup } = suite;
  describe('requireScopes', () => {
    it("match 'all': every scope from `scope` (Auth0, Keycloak) or `scp` (Entra string, Okta array)", async () => {
      const { as } = await setup();
      expectOk(await (await as({ scope: 'openid read:a write:a' })).get('/scopes/all'));
      expectOk(await (await as({ scp: 'read:a write:a' })).get('/scopes/all'));
      expectOk(await (await as({ scp: ['write:a', 'read:a'] })).get('/scopes/all'));
      expectOk(await (await as({ scope: 'read:a', scp: ['write:a'] })).get('/scopes/all'));
      expectOk(await (await as({ scope: 'read:a' })).get('/scopes/one'));
    });

    it("match 'all': a missing scope → 403 insufficient_scope with the RFC 6750 challenge", async () => {
      const { as } = await setup();
      for (const claims of [{ scope: 'read:a' }, { scp: ['write:a'] }, {}, { scope: '' }]) {
        expectInsufficientScope(await (await as(claims)).get('/scopes/all'));
      }
      expectInsufficientScope(
        await (await as({ scope: 'write:a' })).get('/scopes/one'),
        'Bearer error="insufficient_scope", scope="read:a"',
      );
    });

    it("match 'any': one scope is enough, none is refused", async () => {
      const { as } = await setup();
      expectOk(await (await as({ scope: 'write:a' })).get('/scopes/any'));
      expectOk(await (await as({ scp: ['read:a'] })).get('/scopes/any'));
      expectInsufficientScope(await (await as({ scope: 'other' })).get('/scopes/any'));
    });

    it('matches whole, case-sensitive scope tokens only', async () => {
      const { as } = await setup();
      for (const scope of ['read:ab write:a', 'READ:A write:a', 'read:a,write:a', 'xread:a write:a']) {
        expectInsufficientScope(await (await as({ scope })).get('/scopes/all'));
      }
    });
  });

  describe('requirePermissions', () => {
    it("match 'all' and 'any' over the `permissions` array (Auth0 RBAC)", async () => {
      const { as } = await setup();
      const both = await as({ permissions: ['read:x', 'write:x', 'other'] });
      expectOk(await both.get('/perms/all'));
      expectOk(await both.get('/perms/any'));
      const one = await as({ permissions: ['write:x'] });
      expectOk(await one.get('/perms/any'));
      expectForbidden(await one.get('/perms/all'));
    });

    it('refuses with 403 forbidden that names no permission', async () => {
      const { as } = await setup();
      for (const claims of [
        {},
        { permissions: [] },
        { permissions: ['other'] },
        { scope: 'read:x write:x' },
      ]) {
        const caller = await as(claims);
        for (const path of ['/perms/all', '/perms/any']) {
          const response = await caller.get(path);
          expectForbidden(response);
          expect(JSON.stringify(response.body)).not.toMatch(/read:x|write:x/);
        }
      }
    });
  });
}

/** `requireClaims` predicates, and chained guards checked in order. */
function claimCases<H>(suite: GuardSuite<H>): void {
  const { setup } = suite;
  describe('requireClaims', () => {
    it('passes only when the predicate returns true', async () => {
      const { as } = await setup();
      expectOk(await (await as({ tier: 'gold' })).get('/claims'));
      for (const tier of ['silver', 1, true, undefined]) {
        expectForbidden(await (await as({ tier })).get('/claims'));
      }
    });

    it('a predicate that throws refuses (403), never a 500', async () => {
      const { as } = await setup();
      expectForbidden(await (await as({})).get('/claims/throws'));
      expectForbidden(await (await as({ org: null })).get('/claims/throws'));
      expectOk(await (await as({ org: { id: 'acme' } })).get('/claims/throws'));
    });

    it('a predicate returning a promise never lets the request through', async () => {
      const { as } = await setup();
      const response = await (await as({})).get('/claims/async');
      expectRefused(response, 500, 'configuration_error');
    });
  });

  it('chained guards: each one is checked, in order', async () => {
    const { as } = await setup();
    expectOk(await (await as({ scope: 'write:a' }, 'admin')).get('/chain'));
    expectInsufficientScope(
      await (await as({ scope: 'read:a' }, 'admin')).get('/chain'),
      'Bearer error="insufficient_scope", scope="write:a"',
    );
    expectForbidden(await (await as({ scope: 'write:a' })).get('/chain'));
  });
}

/** What is refused before any guard checks: no auth, no user, an inactive user, a store outage. */
function refusalCases<H>(suite: GuardSuite<H>): void {
  const { setup } = suite;
  describe('refusals before the check', () => {
    const everyRoute = guardRoutes(suite).map((route) => route.path);

    it('no auth (optional mode without a token) → 401 missing_token on every guarded route', async () => {
      const { app } = await setup({}, { optional: true });
      for (const path of everyRoute) {
        const response = await app.request(path, {});
        expectRefused(response, 401, 'missing_token');
        expect(response.headers['www-authenticate']).toBe('Bearer');
      }
    });

    it('no auth (a path jitProvision skips) → 401 missing_token', async () => {
      const { app } = await setup({}, { skip: (path) => path.startsWith('/role/') });
      expectRefused(await app.request('/role/admin', {}), 401, 'missing_token');
    });

    it("no user (store down, onProvisioningError: 'continue') → 403 forbidden, whatever the token holds", async () => {
      const { as, setDown } = await setup({ onProvisioningError: 'continue' });
      const caller = await as({
        scope: 'read:a write:a',
        permissions: ['read:x', 'write:x'],
        tier: 'gold',
      });
      setDown(true);
      for (const path of ['/scopes/all', '/perms/all', '/claims', '/role/any']) {
        expectForbidden(await caller.get(path));
      }
    });

    it('a disabled user (or any status but active) → 403, even an admin with every scope', async () => {
      const { as, statuses } = await setup();
      const claims = { scope: 'read:a write:a', permissions: ['read:x', 'write:x'], tier: 'gold' };
      const active = await as(claims, 'admin');
      statuses.set(active.sub, 'active');
      expectOk(await active.get('/role/admin'));
      for (const status of ['disabled', 'pending']) {
        const caller = await as(claims, 'admin');
        statuses.set(caller.sub, status);
        for (const path of ['/role/admin', '/scopes/all', '/perms/all', '/claims']) {
          const response = await caller.get(path);
          expect(response.status).toBe(403);
          // The lifecycle work answers disabled users with its own code before any guard runs.
          expect(['forbidden', 'user_disabled']).toContain((response.body as ErrorBody).error);
        }
      }
    });
  });
}

/** Machine clients (client-credentials tokens, `auth.kind === 'client'`): what each guard does with them. */
function clientCases<H>(suite: GuardSuite<H>): void {
  const { setup, fresh } = suite;
  /** A GET with a client-credentials token (RFC 9068: `client_id` equal to `sub`) carrying `claims`. */
  const asClient = async (app: AdapterTestApp, claims: Record<string, unknown> = {}, id = fresh('svc')) => {
    const token = await suite.idp.mint({ sub: id, client_id: id, ...claims }, { audience: AUD });
    return (path: string) => app.request(path, { authorization: `Bearer ${token}` });
  };
  describe('machine clients', () => {
    it('requireScopes, requirePermissions and requireClaims check a client by its token', async () => {
      const { app } = await setup();
      const get = await asClient(app, {
        scope: 'read:a write:a',
        permissions: ['read:x', 'write:x'],
        tier: 'gold',
      });
      for (const path of ['/scopes/all', '/scopes/any', '/perms/all', '/claims']) expectOk(await get(path));
      const bare = await asClient(app);
      expectInsufficientScope(await bare('/scopes/all'));
      expectForbidden(await bare('/perms/all'));
      expectForbidden(await bare('/claims'));
    });

    it('requireRole refuses a client (403 forbidden) unless { clients: true }; requireUser always', async () => {
      const { app } = await setup();
      const get = await asClient(app, { scope: 'read:a write:a', role: 'admin', roles: ['admin'] });
      for (const path of ['/role/admin', '/role/any', '/chain', '/user']) expectForbidden(await get(path));
      expectOk(await get('/role/admin-or-client'));
      expectOk(await get('/client/scoped'));
      expectInsufficientScope(
        await (await asClient(app, { scope: 'read:a' }))('/client/scoped'),
        'Bearer error="insufficient_scope", scope="write:a"',
      );
    });

    it('requireUser and { clients: true } still hold people to their checks', async () => {
      const { as } = await setup();
      const admin = await as({}, 'admin');
      expectOk(await admin.get('/user'));
      expectOk(await admin.get('/role/admin-or-client'));
      const user = await as();
      expectOk(await user.get('/user'));
      expectForbidden(await user.get('/role/admin-or-client'));
    });

    it('a user token dressed as a client is a user: it gets no client pass', async () => {
      const { as } = await setup();
      for (const claims of [
        { client_id: 'web', scope: 'read:a write:a' },
        { gty: 'client-credentials', azp: 'web', scope: 'read:a write:a' },
        { cid: 'web', scope: 'read:a write:a' },
        { idtyp: 'app', azp: 'web', scp: 'read:a write:a' },
        { preferred_username: 'service-account-web', azp: 'web', scope: 'read:a write:a' },
      ]) {
        const user = await as(claims);
        expectForbidden(await user.get('/role/admin-or-client'));
        expectForbidden(await user.get('/client/scoped'));
        expectOk(await user.get('/user'));
      }
    });

    it("a client token never reaches the row of an admin with the client's subject", async () => {
      const { app, provisioner } = await setup();
      const id = fresh('shared');
      await provisioner.preProvision({ issuer: suite.idp.issuer, subject: id, role: 'admin' });
      const get = await asClient(app, {}, id);
      expectForbidden(await get('/role/admin'));
      expectForbidden(await get('/user'));
    });
  });
}

/** Hostile claim shapes: refused with 403, never a 500. */
function hostileClaimCases<H>(suite: GuardSuite<H>): void {
  const { setup } = suite;
  describe('hostile claim shapes: refused with 403, never a 500', () => {
    const many = (item: unknown, last?: unknown) => {
      const list: unknown[] = Array.from({ length: 10_000 }, () => item);
      if (last !== undefined) list[list.length - 1] = last;
      return list;
    };
    const overCap = `${'x '.repeat(MAX_GUARD_CLAIM_ITEMS)}read:a write:a`;
    const scopeCases: Array<[string, Record<string, unknown>]> = [
      ['scope as a number', { scope: 42 }],
      ['scope as an object', { scope: { 'read:a': true, 'write:a': true } }],
      ['scope as an array (only scp may be one)', { scope: ['read:a', 'write:a'] }],
      ['scope as null', { scope: null }],
      ['scope valid but scp a number', { scope: 'read:a write:a', scp: 7 }],
      ['scp with a non-string item', { scp: ['read:a', 'write:a', 1] }],
      ['scp with null and nested arrays', { scp: ['read:a', null, ['write:a']] }],
      ['scp as an array-like object', { scp: { 0: 'read:a', 1: 'write:a', length: 2 } }],
      ['scp with 10,000 items, the scopes last', { scp: [...many('x'), 'read:a', 'write:a'] }],
      ['scp with 10,000 items, the scopes first', { scp: ['read:a', 'write:a', ...many('x')] }],
      ['scope with more items than the cap', { scope: overCap }],
      ['__proto__ key holding the scopes', withProtoKey('{"__proto__":{"scope":"read:a write:a"}}')],
      ['scope as an object with __proto__', { scope: withProtoKey('{"__proto__":"read:a write:a"}') }],
      ['prototype names as scopes', { scope: '__proto__ constructor toString hasOwnProperty' }],
    ];
    const permissionCases: Array<[string, Record<string, unknown>]> = [
      ['permissions as a string', { permissions: 'read:x write:x' }],
      ['permissions as a number', { permissions: 1 }],
      ['permissions as an object', { permissions: { 'read:x': true, 'write:x': true } }],
      ['permissions with a non-string item', { permissions: ['read:x', 'write:x', {}] }],
      ['permissions with 10,000 items', { permissions: many('read:x', 'write:x') }],
      [
        '__proto__ key holding permissions',
        withProtoKey('{"__proto__":{"permissions":["read:x","write:x"]}}'),
      ],
      ['permissions as an array-like object', { permissions: { 0: 'read:x', 1: 'write:x', length: 2 } }],
    ];

    it.each(scopeCases)('%s → 403 insufficient_scope', async (_name, claims) => {
      const { as } = await setup();
      const caller = await as(claims);
      const expectRefusal = caller.overServerLimit ? expectServerRefused : expectInsufficientScope;
      expectRefusal(await caller.get('/scopes/all'));
      expectRefusal(await caller.get('/scopes/any'));
    });

    it.each(permissionCases)('%s → 403 forbidden', async (_name, claims) => {
      const { as } = await setup();
      const caller = await as(claims);
      const expectRefusal = caller.overServerLimit ? expectServerRefused : expectForbidden;
      expectRefusal(await caller.get('/perms/all'));
      expectRefusal(await caller.get('/perms/any'));
    });

    it('a __proto__ key never satisfies a claims predicate', async () => {
      const { as } = await setup();
      expectForbidden(await (await as(withProtoKey('{"__proto__":{"tier":"gold"}}'))).get('/claims'));
    });
  });
}

/** Guards validate their arguments when the app is built. */
function startupCases<H>(suite: GuardSuite<H>): void {
  const { requireRole, requireScopes, requirePermissions, requireClaims } = suite;
  describe('start-up validation', () => {
    const bad: Array<[string, () => unknown]> = [
      ['requireRole()', () => requireRole()],
      ["requireRole('')", () => requireRole('')],
      ["requireRole('has space')", () => requireRole('has space')],
      ['requireRole(42)', () => requireRole(42 as unknown as string)],
      ['requireRole([])', () => requireRole([], { clients: true })],
      ["requireRole clients: 'yes'", () => requireRole(['admin'], { clients: 'yes' as unknown as boolean })],
      ['requireScopes([])', () => requireScopes([])],
      ["requireScopes('')", () => requireScopes('')],
      ["requireScopes('read write') (one string, two scopes)", () => requireScopes('read write')],
      ['requireScopes with a quote', () => requireScopes(['a"b'])],
      ['requireScopes([1])', () => requireScopes([1] as unknown as string[])],
      ['requireScopes(null)', () => requireScopes(null as unknown as string)],
      ["requireScopes match: 'some'", () => requireScopes('a', { match: 'some' as 'all' })],
      ['requirePermissions([])', () => requirePermissions([])],
      ["requirePermissions([''])", () => requirePermissions([''])],
      ['requirePermissions with a control character', () => requirePermissions(['a\nb'])],
      ['requirePermissions options not an object', () => requirePermissions('a', 'any' as never)],
      ["requireClaims('x')", () => requireClaims('x' as unknown as ClaimsPredicate)],
    ];
    it.each(bad)('%s → ConfigurationError', (_name, build) => {
      expect(build).toThrow(expect.objectContaining({ code: 'configuration_error' }));
    });
  });
}

/**
 * The behaviour every adapter's route guards share, run against the real framework with real signed tokens:
 * `requireRole` (stored role only, never a claim), `requireScopes` (`scope` and `scp`, match all/any, the RFC
 * 6750 challenge), `requirePermissions` (Auth0 `permissions`), `requireClaims` (true/false/throwing/async
 * predicates), `requireUser`, chained guards, the refusals before any check (no auth → 401, no user or an inactive
 * user → 403), machine clients (scopes, permissions and claims checked; `requireRole` refuses them unless
 * `{ clients: true }`, `requireUser` always; a user token dressed as a client is still a user), hostile claim shapes (never a 500) and start-up validation of the guards' arguments.
 *
 * @example
 * ```ts
 * import { runGuardSuite } from '@jit-provision/testing';
 * import { createMemoryStore } from '@jit-provision/store-memory';
 * import { jitProvision, requireClaims, requirePermissions, requireRole, requireScopes, requireUser } from '@jit-provision/adapter-hono';
 *
 * runGuardSuite({
 *   name: 'hono',
 *   createStore: createMemoryStore,
 *   guards: { requireRole, requireUser, requireScopes, requirePermissions, requireClaims },
 *   createApp: (provisioner, options, routes) => {
 *     const app = new Hono();
 *     app.use('*', jitProvision(provisioner, options));
 *     for (const { path, guards } of routes) app.use(path, ...guards).get(path, (c) => c.json({ ok: true }));
 *     return { request: async (path, headers) => { const r = await app.request(path, { headers }); ... } };
 *   },
 * });
 * ```
 */
export function runGuardSuite<H>(options: GuardSuiteOptions<H>): void {
  describe(`guard suite: ${options.name}`, () => {
    const state = { options, apps: [] as AdapterTestApp[] };
    let counter = 0;
    const fresh = (label: string) => `${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
    const idp = suiteIssuer('guard suite', state.apps);
    const suite: GuardSuite<H> = {
      ...options.guards,
      get idp() {
        return idp();
      },
      fresh,
      setup: (overrides, adapterOptions, roles) =>
        setupCase({ ...state, idp: idp(), fresh }, overrides, adapterOptions, roles),
    };
    roleCases(suite);
    scopeAndPermissionCases(suite);
    claimCases(suite);
    refusalCases(suite);
    clientCases(suite);
    hostileClaimCases(suite);
    startupCases(suite);
  });
}
