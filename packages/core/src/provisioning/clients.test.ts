import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import type { IssuerClientsOptions } from '../types';
import { createProvisioner } from './provisioner';

let idp: DevIssuer;
beforeAll(async () => {
  idp = await createDevIssuer();
});
afterAll(() => idp.close());

/** A provisioner on a real store whose every store call and hook is counted. */
function setup(clients?: IssuerClientsOptions) {
  const store = createMemoryStore();
  const lookup = vi.spyOn(store, 'lookup');
  const upsert = vi.spyOn(store, 'upsert');
  const hook = vi.fn();
  const provisioner = createProvisioner({
    store,
    issuers: [{ issuer: idp.issuer, audience: 'api', ...(clients === undefined ? {} : { clients }) }],
    onProvisioned: [hook],
    logger: { warn: () => {}, error: () => {} },
  });
  const call = async (claims: { sub: string } & Record<string, unknown>) => {
    const token = await idp.mint(claims, { audience: 'api' });
    return provisioner.authenticate({ headers: { authorization: `Bearer ${token}` } });
  };
  const touched = () => lookup.mock.calls.length + upsert.mock.calls.length + hook.mock.calls.length;
  return { store, provisioner, call, touched, hook };
}

// What each provider's client-credentials token carries (docs/providers/*.md), signed by a real key.
const providerClients: Array<[string, { sub: string } & Record<string, unknown>, string]> = [
  [
    'RFC 9068 / Ory Hydra',
    { sub: 'billing', client_id: 'billing', scope: 'orders:read orders:write' },
    'billing',
  ],
  [
    'Auth0',
    { sub: 'AbC123@clients', azp: 'AbC123', gty: 'client-credentials', scope: 'orders:read orders:write' },
    'AbC123',
  ],
  ['Okta', { sub: '0oa1svc', cid: '0oa1svc', scp: ['orders:read', 'orders:write'] }, '0oa1svc'],
  [
    'Entra ID (v2)',
    {
      sub: 'sp-oid',
      oid: 'sp-oid',
      azp: 'app-guid',
      idtyp: 'app',
      roles: ['Orders.Read'],
      scope: 'orders:read orders:write',
    },
    'app-guid',
  ],
  [
    'Entra ID (v1)',
    { sub: 'sp-oid', appid: 'app-v1', idtyp: 'app', scope: 'orders:read orders:write' },
    'app-v1',
  ],
  [
    'Keycloak service account',
    {
      sub: '5b0c-uuid',
      azp: 'reporting',
      client_id: 'reporting',
      preferred_username: 'service-account-reporting',
      scope: 'orders:read orders:write',
    },
    'reporting',
  ],
  [
    'Keycloak service account (before 25: clientId)',
    {
      sub: '5b0c-uuid',
      azp: 'reporting',
      clientId: 'reporting',
      preferred_username: 'service-account-reporting',
      scope: 'orders:read orders:write',
    },
    'reporting',
  ],
];

describe("machine clients, detect: 'auto'", () => {
  it.each(providerClients)(
    '%s: authenticated as a client, no row, no hook, no store call',
    async (_p, claims, id) => {
      const { call, touched } = setup();
      for (let i = 0; i < 2; i++) {
        const auth = await call(claims);
        expect(auth).toMatchObject({
          kind: 'client',
          client: { id, issuer: idp.issuer },
          user: null,
          created: false,
          identity: { subject: claims.sub },
        });
        if (auth.kind === 'client')
          expect([...auth.client.scopes].sort()).toEqual(['orders:read', 'orders:write']);
      }
      expect(touched()).toBe(0);
    },
  );

  it('a cached client token is answered by the synchronous hit path, still without a row', async () => {
    const { provisioner, touched } = setup();
    const token = await idp.mint({ sub: 'svc', client_id: 'svc' }, { audience: 'api' });
    const authorization = `Bearer ${token}`;
    await provisioner.authenticate({ headers: { authorization } });
    const hit = provisioner.authenticateCached?.(authorization);
    expect(hit).toMatchObject({ kind: 'client', client: { id: 'svc' }, user: null });
    expect(Object.isFrozen(hit?.kind === 'client' ? hit.client : null)).toBe(true);
    expect(touched()).toBe(0);
  });

  // A user token "dressed as a client": one mark alone, or marks that disagree, is a person's token.
  const dressed: Array<[string, { sub: string } & Record<string, unknown>]> = [
    ['client_id with a different sub', { sub: 'alice', client_id: 'web' }],
    [
      'gty on a user token (sub is not <azp>@clients)',
      { sub: 'auth0|alice', azp: 'web', gty: 'client-credentials' },
    ],
    [
      'gty with an @clients sub of another client',
      { sub: 'other@clients', azp: 'web', gty: 'client-credentials' },
    ],
    ['@clients sub without gty', { sub: 'web@clients', azp: 'web' }],
    ['gty of another grant', { sub: 'web@clients', azp: 'web', gty: 'password' }],
    ['Okta cid equal to sub but a uid (a user)', { sub: '00u1', cid: '00u1', uid: '00u1' }],
    ['Okta cid of another client', { sub: '00u1', cid: '0oa1', uid: '00u1' }],
    ['idtyp app with delegated scp', { sub: 'oid', azp: 'web', idtyp: 'app', scp: 'User.Read' }],
    ['idtyp app without a client id', { sub: 'oid', idtyp: 'app' }],
    ['idtyp user', { sub: 'oid', azp: 'web', idtyp: 'user' }],
    [
      'service-account- username without client_id',
      { sub: 'u', azp: 'web', preferred_username: 'service-account-web' },
    ],
    [
      'service-account- username of another client',
      { sub: 'u', azp: 'web', client_id: 'web', preferred_username: 'service-account-other' },
    ],
    ['client_id not a string', { sub: 'alice', client_id: ['alice'] }],
    ['empty marks', { sub: 'alice', client_id: '', cid: '', azp: '' }],
    ['marks on the prototype only', JSON.parse('{"sub":"alice","__proto__":{"client_id":"alice"}}')],
  ];
  it.each(dressed)('%s → a user, provisioned and checked as one', async (_name, claims) => {
    const { call, hook } = setup();
    const auth = await call(claims);
    expect(auth.kind).toBe('user');
    expect(auth.user).toMatchObject({ subject: claims.sub, role: 'user' });
    expect(hook).toHaveBeenCalledTimes(1);
  });

  it('a client token never reaches the row of a user with that subject', async () => {
    const { call, provisioner } = setup();
    const person = await call({ sub: 'svc' });
    expect(person.kind).toBe('user');
    await provisioner.setRole(person.user?.id as string, 'admin');
    const machine = await call({ sub: 'svc', client_id: 'svc' });
    expect(machine).toMatchObject({ kind: 'client', user: null });
  });

  it('a hostile scope claim gives a client no scopes, never a failure', async () => {
    const { call } = setup();
    const auth = await call({ sub: 'svc', client_id: 'svc', scope: 42 });
    expect(auth).toMatchObject({ kind: 'client', client: { scopes: [] } });
  });
});

describe('machine clients, per issuer options', () => {
  it('provision: true keeps clients as user rows (as before)', async () => {
    const { call, hook } = setup({ provision: true });
    const auth = await call({ sub: 'svc', client_id: 'svc' });
    expect(auth).toMatchObject({ kind: 'user', created: true, user: { subject: 'svc', role: 'user' } });
    expect(hook).toHaveBeenCalledTimes(1);
  });

  it('a detect function decides alone: only true is a client', async () => {
    const { call } = setup({ detect: (claims) => claims['typ'] === 'svc' });
    expect(await call({ sub: 'x', typ: 'svc', azp: 'named' })).toMatchObject({
      kind: 'client',
      client: { id: 'named' },
    });
    expect(await call({ sub: 'y', typ: 'svc' })).toMatchObject({ kind: 'client', client: { id: 'y' } });
    // 'auto' marks mean nothing to a custom detect.
    expect((await call({ sub: 'z', client_id: 'z' })).kind).toBe('user');
    const truthy = setup({ detect: () => 1 as unknown as boolean });
    expect((await truthy.call({ sub: 'w' })).kind).toBe('user');
  });

  it('a detect function that throws refuses the token (401), provisioning nothing', async () => {
    const { call, touched } = setup({
      detect: () => {
        throw new Error('boom');
      },
    });
    await expect(call({ sub: 'x' })).rejects.toMatchObject({
      code: 'invalid_token',
      reason: 'invalid_claim',
    });
    expect(touched()).toBe(0);
  });

  it('bad options fail at start-up', () => {
    const store = createMemoryStore();
    for (const clients of [{ detect: 'yes' }, { provision: 'no' }, 'auto']) {
      expect(() =>
        createProvisioner({
          store,
          issuers: [{ issuer: idp.issuer, audience: 'api', clients: clients as IssuerClientsOptions }],
        }),
      ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
    }
  });
});
