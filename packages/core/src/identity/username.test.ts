import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateRequest } from '../adapter';
import { createDevIssuer, type DevIssuer } from '../dev';
import { createProvisioner } from '../provisioning';
import { defaultPrefix, resolvePrefixes } from './username';

describe('default username prefixes', () => {
  it('keep the documented well-known defaults for a single issuer of a provider', () => {
    expect(defaultPrefix('https://sso.example.com/realms/main')).toBe('kcl');
    expect(defaultPrefix('https://securetoken.google.com/my-app')).toBe('fbs');
    expect(defaultPrefix('https://accounts.google.com')).toBe('ggl');
    expect(defaultPrefix('https://example.eu.auth0.com/')).toBe('a0');
    expect(defaultPrefix('https://sso.example.com')).toBe('sso-example-com');
  });

  it('differ per port and per path on one host', () => {
    const a = defaultPrefix('http://127.0.0.1:4001');
    const b = defaultPrefix('http://127.0.0.1:4002');
    expect(a).toBe('127-0-0-1-4001');
    expect(b).not.toBe(a);
    expect(defaultPrefix('https://login.example.com/tenants/acme')).not.toBe(
      defaultPrefix('https://login.example.com/tenants/globex'),
    );
  });

  it('stay within 32 characters, ending in a hash when cut, so long URLs sharing a start still differ', () => {
    const long = 'https://identity.eu-central-1.example-company.com/tenants/';
    const one = defaultPrefix(`${long}first`);
    const two = defaultPrefix(`${long}second`);
    for (const prefix of [one, two]) expect(prefix).toMatch(/^[a-z0-9][a-z0-9_-]{0,31}$/);
    expect(one).not.toBe(two);
  });

  it('qualify two issuers of one well-known provider by realm or project instead of refusing them', () => {
    const prefixes = resolvePrefixes([
      { issuer: 'https://sso.example.com/realms/main' },
      { issuer: 'https://sso.example.com/realms/staff' },
      { issuer: 'https://securetoken.google.com/app-one' },
      { issuer: 'https://securetoken.google.com/app-two' },
      { issuer: 'https://accounts.google.com' },
    ]);
    expect([...prefixes.values()]).toEqual(['kcl-main', 'kcl-staff', 'fbs-app-one', 'fbs-app-two', 'ggl']);
    // Same realm name on two hosts: the realm does not tell them apart, a hash of the URL does.
    const same = resolvePrefixes([
      { issuer: 'https://a.example.com/realms/main' },
      { issuer: 'https://b.example.com/realms/main' },
    ]);
    expect(new Set(same.values()).size).toBe(2);
  });

  it('still refuse two explicit equal prefixes', () => {
    expect(() =>
      resolvePrefixes([
        { issuer: 'https://a.example.com', prefix: 'same' },
        { issuer: 'https://b.example.com', prefix: 'same' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });
});

describe('two dev issuers on one host', () => {
  let first: DevIssuer;
  let second: DevIssuer;
  beforeAll(async () => {
    [first, second] = await Promise.all([createDevIssuer(), createDevIssuer()]);
  });
  afterAll(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  const login = async (provisioner: ReturnType<typeof createProvisioner>, idp: DevIssuer) => {
    const token = await idp.mint({ sub: 'alice' }, { audience: 'api' });
    return authenticateRequest(provisioner, {
      headers: { authorization: `Bearer ${token}` },
      path: '/me',
      method: 'GET',
    });
  };

  it('trusted together: the same subject at each is its own user, both created', async () => {
    expect(new URL(first.issuer).hostname).toBe(new URL(second.issuer).hostname);
    const provisioner = createProvisioner({
      store: createMemoryStore(),
      issuers: [
        { issuer: first.issuer, audience: 'api' },
        { issuer: second.issuer, audience: 'api' },
      ],
    });
    const a = await login(provisioner, first);
    const b = await login(provisioner, second);
    expect(a.ok && a.auth?.created).toBe(true);
    expect(b.ok && b.auth?.created).toBe(true);
    if (!a.ok || !b.ok) throw new Error('unreachable');
    expect(a.auth?.user?.id).not.toBe(b.auth?.user?.id);
    expect(a.auth?.user?.username).not.toBe(b.auth?.user?.username);
  });

  it('one after the other on one store (a dev issuer restarted on another port): both created', async () => {
    const store = createMemoryStore();
    const before = await login(
      createProvisioner({ store, issuers: [{ issuer: first.issuer, audience: 'api' }] }),
      first,
    );
    const after = await login(
      createProvisioner({ store, issuers: [{ issuer: second.issuer, audience: 'api' }] }),
      second,
    );
    expect(before.ok && before.auth?.created).toBe(true);
    expect(after.ok && after.auth?.created).toBe(true);
  });

  it('a username conflict answers 409 without naming the username another identity holds', async () => {
    // Forced by an explicit shared prefix over time: the one way left to make two identities meet.
    const store = createMemoryStore();
    const owner = await login(
      createProvisioner({ store, issuers: [{ issuer: first.issuer, audience: 'api', prefix: 'dev' }] }),
      first,
    );
    expect(owner.ok && owner.auth?.user?.username).toBe('oidc:dev:alice');
    const clash = await login(
      createProvisioner({ store, issuers: [{ issuer: second.issuer, audience: 'api', prefix: 'dev' }] }),
      second,
    );
    if (clash.ok) throw new Error('expected a conflict');
    expect(clash.response.status).toBe(409);
    expect(clash.response.body.error).toBe('reservation_conflict');
    expect(JSON.stringify(clash.response)).not.toContain('oidc:dev');
    expect(JSON.stringify(clash.response)).not.toContain('alice');
  });
});
