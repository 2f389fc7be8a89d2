import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import { createProvisioner } from '../provisioning';
import type { RoleMapping, UserEvent } from '../types';
import { MAX_ROLE_CLAIM_ITEMS } from './role-claims';
import { identityFromClaims } from './verifier';

let idp: DevIssuer;
beforeAll(async () => {
  idp = await createDevIssuer();
});
afterAll(() => idp.close());

const quiet = { warn: () => {}, error: () => {} };
let subjects = 0;

function setup(roles: RoleMapping) {
  const events: UserEvent[] = [];
  const store = createMemoryStore();
  const provisioner = createProvisioner({
    store,
    issuers: [{ issuer: idp.issuer, audience: 'api', roles }],
    logger: quiet,
    onUserEvent: [(event) => void events.push(event)],
  });
  subjects += 1;
  const sub = `role-${subjects}`;
  const request = async (claims: Record<string, unknown>) =>
    provisioner.authenticate({
      headers: { authorization: `Bearer ${await idp.mint({ sub, ...claims }, { audience: 'api' })}` },
    });
  return { store, provisioner, request, events, sub };
}

const ALLOW = ['admin', 'editor', 'user'];

describe("roles from each provider's documented claim layout", () => {
  it('Keycloak realm roles (realm_access.roles): the highest match by allow order wins', async () => {
    const { request } = setup({
      claim: ['realm_access', 'roles'],
      map: { 'app-admin': 'admin', 'app-editor': 'editor' },
      allow: ALLOW,
    });
    const auth = await request({
      realm_access: { roles: ['offline_access', 'app-editor', 'app-admin', 'uma_authorization'] },
    });
    expect(auth.user).toMatchObject({ role: 'admin', roleSource: 'provider' });
  });

  it('Keycloak client roles (resource_access.<client>.roles) with a dotted client id', async () => {
    const { request } = setup({
      claim: ['resource_access', 'billing.api', 'roles'],
      map: { editor: 'editor' },
      allow: ALLOW,
    });
    const auth = await request({
      resource_access: { 'billing.api': { roles: ['editor'] }, account: { roles: ['manage-account'] } },
    });
    expect(auth.user?.role).toBe('editor');
  });

  it('Entra app roles (roles) and groups (object ids)', async () => {
    const roles = setup({ claim: 'roles', map: { 'Task.Admin': 'admin' }, allow: ALLOW });
    expect((await roles.request({ roles: ['Task.Admin'] })).user?.role).toBe('admin');
    const groups = setup({
      claim: 'groups',
      map: { '5f1c7d3e-1111-4a2b-9c3d-000000000001': 'editor' },
      allow: ALLOW,
    });
    expect((await groups.request({ groups: ['5f1c7d3e-1111-4a2b-9c3d-000000000001', 'x'] })).user?.role).toBe(
      'editor',
    );
  });

  it('Okta groups claim', async () => {
    const { request } = setup({ claim: 'groups', map: { Everyone: 'user', Admins: 'admin' }, allow: ALLOW });
    expect((await request({ groups: ['Everyone', 'Admins'] })).user?.role).toBe('admin');
  });

  it('Auth0 namespaced roles claim (a URL, taken literally) and a single string value', async () => {
    const { request } = setup({
      claim: 'https://example.com/roles',
      map: { editor: 'editor' },
      allow: ALLOW,
      default: 'user',
    });
    expect((await request({ 'https://example.com/roles': 'editor' })).user?.role).toBe('editor');
    const other = setup({
      claim: 'https://example.com/roles',
      map: { editor: 'editor' },
      allow: ALLOW,
      default: 'user',
    });
    expect((await other.request({ 'https://example.com/roles': ['viewer'] })).user).toMatchObject({
      role: 'user',
      roleSource: 'provider',
    });
  });
});

describe('roles from claims with tenantClaim', () => {
  it('maps per user row: the row keeps its tenant and gets the mapped role', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({
      store,
      logger: quiet,
      issuers: [
        {
          issuer: idp.issuer,
          audience: 'api',
          tenantClaim: 'tid',
          roles: { claim: 'roles', map: { 'Task.Admin': 'admin' }, allow: ALLOW, default: 'user' },
        },
      ],
    });
    const login = async (sub: string, claims: Record<string, unknown>) =>
      provisioner.authenticate({
        headers: { authorization: `Bearer ${await idp.mint({ sub, ...claims }, { audience: 'api' })}` },
      });
    const a = await login('tenant-a', { tid: 't-1', roles: ['Task.Admin'] });
    const b = await login('tenant-b', { tid: 't-2', roles: [] });
    expect(a.user).toMatchObject({ tenantId: 't-1', role: 'admin', roleSource: 'provider' });
    expect(b.user).toMatchObject({ tenantId: 't-2', role: 'user', roleSource: 'provider' });
  });
});

describe('roles from claims through authenticate with caches on', () => {
  it('a demotion takes effect on the next request with a new token; the old cached token never serves the old role after', async () => {
    const { request, events } = setup({
      claim: 'groups',
      map: { admins: 'admin', staff: 'editor' },
      allow: ALLOW,
    });
    const adminToken = { groups: ['admins'] };
    expect((await request(adminToken)).user?.role).toBe('admin');
    expect((await request(adminToken)).user?.role).toBe('admin');
    const demoted = await request({ groups: ['staff'] });
    expect(demoted.user).toMatchObject({ role: 'editor', roleSource: 'provider' });
    const roleEvents = events.filter((e) => e.type === 'user.role_changed');
    expect(roleEvents.map((e) => e.data)).toEqual([{ from: 'admin', to: 'editor', source: 'provider' }]);
  });

  it('a cached token of the old role cannot re-serve a cached user of another role', async () => {
    const { provisioner, sub, request } = setup({
      claim: 'groups',
      map: { admins: 'admin', staff: 'editor' },
      allow: ALLOW,
    });
    const oldToken = await idp.mint({ sub, groups: ['admins'] }, { audience: 'api' });
    const headers = { authorization: `Bearer ${oldToken}` };
    expect((await provisioner.authenticate({ headers })).user?.role).toBe('admin');
    expect((await request({ groups: ['staff'] })).user?.role).toBe('editor');
    // The old token is still valid and cached: it goes to the store (the cached row's role differs) and
    // re-evaluates, which is what "sync at every login" means; it never serves the cached editor row as admin.
    const again = await provisioner.authenticate({ headers });
    expect(again.user?.role).toBe('admin');
  });

  it('hostile role claim shapes are never a 500 and never grant a role', async () => {
    const roles = { claim: 'groups', map: { admins: 'admin', __proto__x: 'editor' }, allow: ALLOW };
    const shapes: unknown[] = [
      42,
      { admins: true },
      { 0: 'admins', length: 1 },
      ['admins', 7],
      Array.from({ length: MAX_ROLE_CLAIM_ITEMS + 1 }, () => 'admins'),
      ['__proto__', 'constructor', 'toString'],
      null,
    ];
    for (const groups of shapes) {
      const { request } = setup(roles);
      const auth = await request({ groups });
      expect(auth.user).toMatchObject({ role: 'user', roleSource: 'default' });
    }
    const { request } = setup(roles);
    const withProto = JSON.parse('{"__proto__": {"groups": ["admins"]}}') as Record<string, unknown>;
    expect((await request(withProto)).user?.role).toBe('user');
    const exact = setup(roles);
    expect(
      (await exact.request({ groups: Array.from({ length: MAX_ROLE_CLAIM_ITEMS }, () => 'admins') })).user
        ?.role,
    ).toBe('admin');
  });
});

describe('identityFromClaims with a role mapping', () => {
  it('a 10,000-item claim (over the token size limit, so only reachable this way) maps to nothing', () => {
    const config = {
      issuer: 'https://sso.example.com',
      roles: { claim: 'groups', map: { a: 'admin' }, allow: ALLOW },
    };
    const huge = Array.from({ length: 10_000 }, () => 'a');
    expect(identityFromClaims({ sub: 's', groups: huge }, config).providerRole).toBeUndefined();
    expect(identityFromClaims({ sub: 's', groups: ['a'] }, config).providerRole).toBe('admin');
  });
});

describe('roles configuration is checked at start-up', () => {
  const issuer = (roles: unknown) => ({
    store: createMemoryStore(),
    issuers: [{ issuer: 'https://sso.example.com', audience: 'api', roles: roles as RoleMapping }],
  });
  it.each([
    ['a mapping to a role outside allow', { claim: 'groups', map: { g: 'root' }, allow: ['user'] }],
    ['a default outside allow', { claim: 'groups', map: {}, allow: ['user'], default: 'admin' }],
    ['an invalid role in allow', { claim: 'groups', map: {}, allow: ['bad role'] }],
    ['an empty allow', { claim: 'groups', map: {}, allow: [] }],
    ['an empty claim path', { claim: [], map: {}, allow: ['user'] }],
    ['an unknown sync', { claim: 'groups', map: {}, allow: ['user'], sync: 'always' }],
  ])('%s is a configuration_error', (_, roles) => {
    expect(() => createProvisioner(issuer(roles))).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
  });

  it("sync 'login' needs a store with users", () => {
    const { users: _users, ...bare } = createMemoryStore();
    expect(() =>
      createProvisioner({
        store: bare,
        issuers: [
          {
            issuer: 'https://sso.example.com',
            audience: 'api',
            roles: { claim: 'g', map: {}, allow: ['user'] },
          },
        ],
      }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });
});
