import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import { createProvisioner } from './provisioner';

let idp: DevIssuer;
beforeAll(async () => {
  idp = await createDevIssuer();
});
afterAll(() => idp.close());
afterEach(() => vi.useRealTimers());

/** A provisioner whose store reads and signature checks are counted, with one user cached by one token. */
async function cachedRequest(claims: { sub: string; email?: string }, expiresIn = 300) {
  const store = createMemoryStore();
  const lookup = vi.spyOn(store, 'lookup');
  const provisioner = createProvisioner({ store, issuers: [{ issuer: idp.issuer, audience: 'api' }] });
  const token = await idp.mint(claims, { audience: 'api', expiresIn });
  const headers = { authorization: `Bearer ${token}` };
  const first = await provisioner.authenticate({ headers });
  const second = await provisioner.authenticate({ headers });
  expect(second.user?.id).toBe(first.user?.id);
  expect(lookup).toHaveBeenCalledTimes(1); // the second request touched neither the store nor the verifier
  return { store, lookup, provisioner, token, headers, first };
}

describe('authenticate on a cache hit (token and user cached)', () => {
  it('still refuses a repeated or altered Authorization header carrying a cached token', async () => {
    const { provisioner, token } = await cachedRequest({ sub: 'hdr', email: 'hdr@example.com' });
    const bearer = `Bearer ${token}`;
    const invalid = { code: 'invalid_token' };
    await expect(
      provisioner.authenticate({ headers: { authorization: [bearer, bearer] } }),
    ).rejects.toMatchObject({
      code: 'invalid_token',
      reason: 'malformed',
    });
    await expect(
      provisioner.authenticate({ headers: { authorization: `${bearer}x` } }),
    ).rejects.toMatchObject(invalid);
    await expect(
      provisioner.authenticate({ headers: { authorization: `${bearer}\u0000` } }),
    ).rejects.toMatchObject(invalid);
    await expect(
      provisioner.authenticate({ headers: { authorization: `Bearer ${token.replace('.', '..')}` } }),
    ).rejects.toMatchObject(invalid);
    await expect(
      provisioner.authenticate({ headers: { authorization: `Basic ${token}` } }),
    ).rejects.toMatchObject(invalid);
    // What the strict parse allows (any case, several spaces, surrounding blanks) is still the same token.
    for (const authorization of [`bearer ${token}`, `Bearer   ${token}`, ` ${bearer} `]) {
      expect((await provisioner.authenticate({ headers: { authorization } })).identity.subject).toBe('hdr');
    }
  });

  it('checks exp on every hit', async () => {
    const { provisioner, headers, token } = await cachedRequest({ sub: 'exp' }, 60);
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
      exp: number;
    };
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(exp * 1000 + 4_000); // inside the default 5 s tolerance: still served
    expect((await provisioner.authenticate({ headers })).identity.subject).toBe('exp');
    vi.setSystemTime(exp * 1000 + 5_000);
    await expect(provisioner.authenticate({ headers })).rejects.toMatchObject({
      code: 'invalid_token',
      reason: 'expired',
    });
  });

  it('sees setRole and invalidate at once, and a changed profile reaches the store', async () => {
    const { store, lookup, provisioner, headers, first } = await cachedRequest({
      sub: 'prof',
      email: 'old@example.com',
    });
    const id = first.user?.id as string;
    await provisioner.setRole(id, 'admin');
    expect((await provisioner.authenticate({ headers })).user?.role).toBe('admin');
    provisioner.invalidate(id);
    await provisioner.authenticate({ headers });
    expect(lookup).toHaveBeenCalledTimes(3);

    const renamed = await idp.mint({ sub: 'prof', email: 'new@example.com' }, { audience: 'api' });
    const next = await provisioner.authenticate({ headers: { authorization: `Bearer ${renamed}` } });
    expect(next.user).toMatchObject({ id, email: 'new@example.com' });
    expect(await store.getUser(id)).toMatchObject({ email: 'new@example.com' });
    // The old token still says old@: its next request syncs the row back rather than serving a stale hit.
    expect((await provisioner.authenticate({ headers })).user?.email).toBe('old@example.com');
  });
});
