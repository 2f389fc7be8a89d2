import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import { createProvisioner } from '../provisioning';
import { authenticateCachedRequest, authenticateRequest } from './authenticate';

let idp: DevIssuer;
beforeAll(async () => {
  idp = await createDevIssuer();
});
afterAll(() => idp.close());
afterEach(() => vi.useRealTimers());

/** A provisioner with one user cached by one token, after one request through the full path. */
async function cached(claims: { sub: string; email?: string }, expiresIn = 300) {
  const store = createMemoryStore();
  const lookup = vi.spyOn(store, 'lookup');
  const provisioner = createProvisioner({ store, issuers: [{ issuer: idp.issuer, audience: 'api' }] });
  const token = await idp.mint(claims, { audience: 'api', expiresIn });
  const request = { headers: { authorization: `Bearer ${token}` }, path: '/me', method: 'GET' };
  const first = await authenticateRequest(provisioner, request);
  expect(first.ok).toBe(true);
  const id = (first.ok ? first.auth?.user?.id : undefined) as string;
  return { store, lookup, provisioner, token, request, id };
}

describe('authenticateCachedRequest (the synchronous full-hit path)', () => {
  it('answers a cached token and user synchronously, with the same user and no store read', async () => {
    const { provisioner, request, id, lookup } = await cached({ sub: 'now', email: 'now@example.com' });
    const now = authenticateCachedRequest(provisioner, request);
    expect(now).toMatchObject({ ok: true, auth: { user: { id }, created: false } });
    expect(now?.ok && now.auth?.identity.subject).toBe('now');
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('answers nothing on a miss, a repeated or altered header, or no header', async () => {
    const { provisioner, token } = await cached({ sub: 'miss' });
    const other = await idp.mint({ sub: 'other' }, { audience: 'api' });
    const at = (authorization?: string | string[]) => ({
      headers: authorization === undefined ? {} : { authorization },
      path: '/',
      method: 'GET',
    });
    expect(authenticateCachedRequest(provisioner, at(`Bearer ${other}`))).toBeUndefined();
    expect(
      authenticateCachedRequest(provisioner, at([`Bearer ${token}`, `Bearer ${token}`])),
    ).toBeUndefined();
    expect(authenticateCachedRequest(provisioner, at(`Bearer ${token}x`))).toBeUndefined();
    expect(authenticateCachedRequest(provisioner, at())).toBeUndefined();
    const refused = await authenticateRequest(provisioner, at([`Bearer ${token}`, `Bearer ${token}`]));
    expect(refused).toMatchObject({ ok: false, response: { status: 401 } });
  });

  it("reads the adapter's `authorization` instead of searching the headers, repeated values included", async () => {
    const { provisioner, token, id } = await cached({ sub: 'given' });
    const given = (authorization: string | string[] | undefined) => ({
      headers: {},
      authorization,
      path: '/',
      method: 'GET',
    });
    expect(authenticateCachedRequest(provisioner, given(`Bearer ${token}`))).toMatchObject({
      ok: true,
      auth: { user: { id } },
    });
    expect(
      authenticateCachedRequest(provisioner, given([`Bearer ${token}`, `Bearer ${token}`])),
    ).toBeUndefined();
    expect(authenticateCachedRequest(provisioner, given(undefined))).toBeUndefined();
    // Given but absent wins over the headers: the adapter read them already.
    const both = { ...given(undefined), headers: { authorization: `Bearer ${token}` } };
    expect(authenticateCachedRequest(provisioner, both)).toBeUndefined();
  });

  it('checks exp on every hit: an expired cached token falls through to a 401', async () => {
    const { provisioner, request, token } = await cached({ sub: 'exp' }, 60);
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
      exp: number;
    };
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(exp * 1000 + 4_000); // inside the default 5 s tolerance
    expect((await authenticateRequest(provisioner, request)).ok).toBe(true); // the user row is cached again
    expect(authenticateCachedRequest(provisioner, request)?.ok).toBe(true);
    vi.setSystemTime(exp * 1000 + 5_000);
    expect(authenticateCachedRequest(provisioner, request)).toBeUndefined();
    const outcome = await authenticateRequest(provisioner, request);
    expect(outcome.ok || (outcome.error as { code: string }).code).toBe('invalid_token');
  });

  it('refuses nothing itself: a disabled user and revoked sessions fall through to their refusal', async () => {
    const { provisioner, request, id } = await cached({ sub: 'off' });
    await provisioner.disable(id);
    await expect(provisioner.authenticate({ headers: request.headers })).rejects.toMatchObject({
      code: 'user_disabled',
    });
    expect(authenticateCachedRequest(provisioner, request)).toBeUndefined();
    expect(await authenticateRequest(provisioner, request)).toMatchObject({
      ok: false,
      response: { status: 403 },
    });

    await provisioner.enable(id);
    await authenticateRequest(provisioner, request);
    expect(authenticateCachedRequest(provisioner, request)?.ok).toBe(true);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2_000); // revoked strictly after the token was issued
    await provisioner.revokeSessions(id);
    await authenticateRequest(provisioner, request); // re-caches the row with its tokensValidAfter
    expect(authenticateCachedRequest(provisioner, request)).toBeUndefined();
    const outcome = await authenticateRequest(provisioner, request);
    expect(outcome.ok ? 'ok' : (outcome.error as { code: string }).code).toBe('invalid_token');
  });

  it('lets a changed profile go the full way, so it reaches the store', async () => {
    const { provisioner, store, id, request } = await cached({ sub: 'prof', email: 'old@example.com' });
    const renamed = await idp.mint({ sub: 'prof', email: 'new@example.com' }, { audience: 'api' });
    const next = { headers: { authorization: `Bearer ${renamed}` }, path: '/', method: 'GET' };
    expect(authenticateCachedRequest(provisioner, next)).toBeUndefined(); // a token never seen
    await authenticateRequest(provisioner, next);
    expect(await store.getUser(id)).toMatchObject({ email: 'new@example.com' });
    // The old token is cached but its email no longer matches the cached row: no hit, the store is synced.
    expect(authenticateCachedRequest(provisioner, request)).toBeUndefined();
    await authenticateRequest(provisioner, request);
    expect(await store.getUser(id)).toMatchObject({ email: 'old@example.com' });
  });

  it('answers a skipped request as anonymous without reading the header', async () => {
    const { provisioner } = await cached({ sub: 'skip' });
    const request = { headers: { authorization: 'Bearer nonsense' }, path: '/health', method: 'GET' };
    expect(authenticateCachedRequest(provisioner, request, { skip: (path) => path === '/health' })).toEqual({
      ok: true,
      auth: null,
    });
  });
});

describe('authenticateRequest', () => {
  const provisioner = () =>
    createProvisioner({ store: createMemoryStore(), issuers: [{ issuer: idp.issuer, audience: false }] });

  it('skips, allows anonymous when optional, and answers failures', async () => {
    const p = provisioner();
    const get = { path: '/health', method: 'GET', headers: {} };
    expect(await authenticateRequest(p, get, { skip: (path) => path === '/health' })).toEqual({
      ok: true,
      auth: null,
    });
    expect(await authenticateRequest(p, get, { optional: true })).toEqual({ ok: true, auth: null });
    const missing = await authenticateRequest(p, get);
    expect(missing).toMatchObject({ ok: false, response: { status: 401, body: { error: 'missing_token' } } });
    const invalid = await authenticateRequest(
      p,
      { ...get, headers: { authorization: 'Bearer x.y.z' } },
      { optional: true },
    );
    expect(invalid).toMatchObject({ ok: false, response: { status: 401, body: { error: 'invalid_token' } } });
    const token = await idp.mint({ sub: 'carol' });
    const ok = await authenticateRequest(p, { ...get, headers: { authorization: `Bearer ${token}` } });
    expect(ok).toMatchObject({ ok: true, auth: { created: true, user: { subject: 'carol' } } });
  });
});
