import type { Store } from '@jit-provision/core';
import { createProvisioner } from '@jit-provision/core';
import type { Route } from '@jit-provision/core/adapter';
import { backchannelLogout } from '@jit-provision/core/backchannel';
import type { DevIssuer } from '@jit-provision/core/dev';
import { describe, expect, it } from 'vitest';
import { suiteIssuer } from './issuers';
import type { RouteTestSend } from './routes';

/** Options of {@link runBackchannelLogoutSuite}. */
export interface BackchannelLogoutSuiteOptions {
  /** Shown in the suite title. */
  name: string;
  /** A fresh, real store with the `logout` and `users` parts (e.g. the memory store). */
  createStore: () => Store | Promise<Store>;
  /** Mount `routes` with the adapter's generic mounter under `/t` and return a sender through the real framework. */
  mount(routes: readonly Route[]): RouteTestSend;
}

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
let jtis = 0;

/** A logout token for `sid` from `idp`, audience `app`, `logout+jwt`; `extra` claims on top (undefined removes one). */
const logoutToken = (idp: DevIssuer, sid: string, extra: Record<string, unknown> = {}, audience = 'app') =>
  idp.mint({ sid, jti: `bcl-${++jtis}-${Date.now()}`, events: { [EVENT]: {} }, ...extra } as never, {
    audience,
    expiresIn: 120,
    header: { typ: 'logout+jwt' },
  });

/**
 * Back-channel logout through an adapter's route-table mounter, over the real framework: a form-encoded
 * `logout_token` answers 200 with `Cache-Control: no-store`, and an access token carrying its `sid` — served
 * from the caches a moment before — answers 401 `invalid_token` from then on; a replayed `jti`, a wrong
 * `aud`, a `nonce`, missing `events` each answer 400 `invalid_request`; a JSON body 415, a 1 MB body 413.
 *
 * @example
 * ```ts
 * import { runBackchannelLogoutSuite } from '@jit-provision/testing';
 *
 * runBackchannelLogoutSuite({ name: 'express', createStore: createMemoryStore, mount: (routes) => sendThrough(router(routes)) });
 * ```
 */
export function runBackchannelLogoutSuite(options: BackchannelLogoutSuiteOptions): void {
  describe(`back-channel logout: ${options.name}`, () => {
    const idp = suiteIssuer('runBackchannelLogoutSuite', []);

    async function app() {
      const provisioner = createProvisioner({
        store: await options.createStore(),
        logger: { warn: () => {}, error: () => {} },
        issuers: [{ issuer: idp().issuer, audience: 'api', backchannelLogout: { clientId: 'app' } }],
      });
      const me: Route = {
        method: 'GET',
        path: '/me',
        authenticate: ({ headers }) => provisioner.authenticate({ headers }),
        handler: async (request) => ({ status: 200, body: { ok: request.auth !== undefined } }),
      };
      return options.mount([...backchannelLogout({ provisioner }).routes, me]);
    }
    const post = (send: RouteTestSend, token: string) =>
      send('POST', '/t', new URLSearchParams({ logout_token: token }).toString(), FORM);

    it('a logout token for a sid → 200 no-store; that sid’s access token, served from the caches before, → 401 invalid_token', async () => {
      const send = await app();
      const access = await idp().mint({ sub: 'alice', sid: 's-alice' }, { audience: 'api' });
      const other = await idp().mint({ sub: 'alice', sid: 's-phone' }, { audience: 'api' });
      const bearer = { authorization: `Bearer ${access}` };
      expect((await send('GET', '/t/me', undefined, bearer)).status).toBe(200);
      expect((await send('GET', '/t/me', undefined, bearer)).status).toBe(200);
      const out = await post(send, await logoutToken(idp(), 's-alice'));
      expect(out.status).toBe(200);
      expect(out.headers['cache-control']).toBe('no-store');
      expect(await send('GET', '/t/me', undefined, bearer)).toMatchObject({
        status: 401,
        body: { error: 'invalid_token' },
      });
      // Her session on another device is not the one that ended.
      expect((await send('GET', '/t/me', undefined, { authorization: `Bearer ${other}` })).status).toBe(200);
    });

    it('hostile logout tokens → 400 invalid_request (replay, wrong aud, nonce, no events); JSON → 415; 1 MB → 413', async () => {
      const send = await app();
      const token = await logoutToken(idp(), 's-replay');
      expect((await post(send, token)).status).toBe(200);
      for (const bad of [
        token,
        await logoutToken(idp(), 's-aud', {}, 'api'),
        await logoutToken(idp(), 's-nonce', { nonce: 'n' }),
        await logoutToken(idp(), 's-events', { events: undefined }),
        await idp().mint({ sub: 'alice', sid: 's-id', nonce: 'n' }, { audience: 'app' }),
      ]) {
        const out = await post(send, bad);
        expect(out).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
        expect(out.headers['cache-control']).toBe('no-store');
      }
      const json = await send(
        'POST',
        '/t',
        JSON.stringify({ logout_token: await logoutToken(idp(), 's-json') }),
        {
          'content-type': 'application/json',
        },
      );
      expect(json).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
      const big = await send('POST', '/t', `logout_token=${'a'.repeat(1_048_576)}`, FORM);
      expect(big).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
      expect(await send('POST', '/t', '', FORM)).toMatchObject({
        status: 400,
        body: { error: 'invalid_request' },
      });
    });
  });
}
