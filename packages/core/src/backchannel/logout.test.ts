import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { answerRoute, type Route } from '../adapter';
import { createDevIssuer, type DevIssuer } from '../dev';
import { createProvisioner } from '../provisioning';
import type { Logger, UserEvent } from '../types';
import { backchannelLogout } from './index';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const quiet = (): Logger => ({ warn: vi.fn(), error: vi.fn() });
let idp: DevIssuer;
let other: DevIssuer;
let stranger: DevIssuer;
let n = 0;
let ISSUER: {
  issuer: string;
  audience: string;
  algorithms: string[];
  backchannelLogout: { clientId: string };
};

beforeAll(async () => {
  idp = await createDevIssuer();
  other = await createDevIssuer();
  stranger = await createDevIssuer();
  ISSUER = {
    issuer: idp.issuer,
    audience: 'api',
    algorithms: ['RS256'],
    backchannelLogout: { clientId: 'app' },
  };
});
afterAll(async () => {
  await idp.close();
  await other.close();
  await stranger.close();
});

function setup(events: UserEvent[] = []) {
  const store = createMemoryStore();
  const provisioner = createProvisioner({
    store,
    logger: quiet(),
    onUserEvent: [(event) => void events.push(event)],
    issuers: [ISSUER, { issuer: other.issuer, audience: 'api' }],
  });
  const [route] = backchannelLogout({ provisioner }).routes as [Route];
  const post = (body: unknown) => answerRoute(route, { headers: {}, query: {}, params: {}, body });
  const bearer = (token: string) =>
    provisioner.authenticate({ headers: { authorization: `Bearer ${token}` } });
  return { store, provisioner, post, bearer };
}

const logoutClaims = (extra: Record<string, unknown> = {}) => ({
  sub: 'alice',
  sid: 's1',
  jti: `j${++n}`,
  events: { [EVENT]: {} },
  ...extra,
});
const logoutToken = (extra: Record<string, unknown> = {}, options: Parameters<DevIssuer['mint']>[1] = {}) =>
  idp.mint(logoutClaims(extra) as { sub: string }, {
    audience: 'app',
    expiresIn: 120,
    header: { typ: 'logout+jwt' },
    ...options,
  });

describe('backchannelLogout', () => {
  it('a sid logout refuses every access token with that sid, cache hits included; 200 no-store', async () => {
    const { post, bearer, provisioner, store } = setup();
    const access = await idp.mint({ sub: 'bob', sid: 's-bob' }, { audience: 'api' });
    const unrelated = await idp.mint({ sub: 'bob', sid: 's-other' }, { audience: 'api' });
    await bearer(access);
    expect(provisioner.authenticateCached?.(`Bearer ${access}`)?.user?.subject).toBe('bob');
    const out = await post({ logout_token: await logoutToken({ sub: undefined, sid: 's-bob' }) });
    expect(out.status).toBe(200);
    expect(out.headers['cache-control']).toBe('no-store');
    expect(provisioner.authenticateCached?.(`Bearer ${access}`)).toBeUndefined();
    await expect(bearer(access)).rejects.toMatchObject({ code: 'invalid_token', reason: 'session_revoked' });
    await expect(bearer(unrelated)).resolves.toMatchObject({ user: { subject: 'bob' } });
    // another provisioner (empty caches) on the same store refuses it too, once it loaded the revoked sids
    const fresh = createProvisioner({ store, logger: quiet(), issuers: [ISSUER] });
    await expect(
      fresh.authenticate({ headers: { authorization: `Bearer ${access}` } }),
    ).rejects.toMatchObject({
      reason: 'session_revoked',
    });
    await fresh.close();
  });

  it('a sub logout revokes the user as of the logout iat, actor backchannel; an unknown sub creates nothing', async () => {
    const events: UserEvent[] = [];
    const { post, bearer, store } = setup(events);
    const before = await idp.mint({ sub: 'alice' }, { audience: 'api', issuedAt: -30 });
    const { user } = await bearer(before);
    const out = await post({ logout_token: await logoutToken({ sid: undefined }, { issuedAt: -10 }) });
    expect(out.status).toBe(200);
    await expect(bearer(before)).rejects.toMatchObject({ reason: 'token_revoked' });
    const row = await store.getUser(user?.id ?? '');
    expect(Math.abs((row?.tokensValidAfter?.getTime() ?? 0) - (Date.now() - 10_000))).toBeLessThan(2_000);
    expect(events.filter((e) => e.type === 'user.sessions_revoked')).toMatchObject([
      { actor: 'backchannel' },
    ]);
    const unknown = await post({ logout_token: await logoutToken({ sub: 'nobody', sid: undefined }) });
    expect(unknown.status).toBe(200);
    expect(await store.lookup({ issuer: idp.issuer, subject: 'nobody' })).toBeNull();
  });

  it('refuses hostile logout tokens with 400 invalid_request and no-store', async () => {
    const { post } = setup();
    const replayed = await logoutToken();
    expect((await post({ logout_token: replayed })).status).toBe(200);
    const cases: Array<[string, Promise<string> | string]> = [
      ['replayed jti', replayed],
      ['wrong aud', logoutToken({}, { audience: 'api' })],
      ['nonce', logoutToken({ nonce: 'n' })],
      ['no events', logoutToken({ events: undefined })],
      ['events of the wrong type', logoutToken({ events: { [EVENT]: 'yes' } })],
      ['neither sub nor sid', logoutToken({ sub: undefined, sid: undefined })],
      ['no jti', logoutToken({ jti: undefined })],
      ['no iat', logoutToken({}, { issuedAt: false })],
      ['iat in the future', logoutToken({}, { issuedAt: 120 })],
      ['too old', logoutToken({}, { issuedAt: -3_600, expiresIn: false })],
      ['expired', logoutToken({}, { issuedAt: -60, expiresIn: -30 })],
      ['an ID token', idp.mint({ sub: 'alice', nonce: 'n', sid: 's1' }, { audience: 'app' })],
      [
        'an access token',
        idp.mint({ sub: 'alice', jti: 'x' }, { audience: 'app', header: { typ: 'at+jwt' } }),
      ],
      ['alg not allowed', logoutToken({}, { alg: 'ES256' })],
      [
        'an issuer without backchannelLogout',
        other.mint(logoutClaims() as { sub: string }, { audience: 'app' }),
      ],
      ['garbage', 'not.a.jwt'],
    ];
    for (const [name, token] of cases) {
      const out = await post({ logout_token: await token });
      expect([name, out.status, JSON.parse(out.body ?? '{}').error]).toEqual([name, 400, 'invalid_request']);
      expect(out.headers['cache-control']).toBe('no-store');
    }
    for (const body of [undefined, {}, { logout_token: ['a', 'b'] }, { logout_token: '' }]) {
      expect((await post(body)).status).toBe(400);
    }
  });

  it('one jti is accepted once among many racing posts', async () => {
    const { post } = setup();
    const token = await logoutToken();
    const answers = await Promise.all(Array.from({ length: 20 }, () => post({ logout_token: token })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
  });
});
