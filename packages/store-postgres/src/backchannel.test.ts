import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from './index';
import { type RunningChild, runTs } from './test-support/child-process';
import {
  createTestDatabase,
  DATABASE_URL,
  PGLITE_SKIP_REASON,
  type TestDatabase,
} from './test-support/database';

const RESOURCE = 'https://api.bcl.test';
const CLIENT = { id: 'bcl-app', secret: randomBytes(24).toString('hex') };
const REDIRECT = 'http://127.0.0.1/cb';

/** A cookie jar and fetch without redirects: the login flow of a browser, step by step. */
function browser() {
  const jar = new Map<string, string>();
  return async (url: string, init: RequestInit = {}): Promise<Response> => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie === '' ? {} : { cookie }) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  };
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Log `login` in through oidc-provider's dev interactions; answers the JWT access token for RESOURCE. */
async function signIn(issuer: string, go: ReturnType<typeof browser>, login: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const auth = new URL(`${issuer}/auth`);
  for (const [k, v] of Object.entries({
    client_id: CLIENT.id,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT,
    resource: RESOURCE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }))
    auth.searchParams.set(k, v);
  let location = auth.href;
  let code: string | null = null;
  for (let step = 0; step < 12 && code === null; step++) {
    const target = new URL(location, issuer);
    if (target.href.startsWith(REDIRECT)) {
      code = target.searchParams.get('code');
      break;
    }
    let res = await go(target.href);
    if (target.pathname.startsWith('/interaction/') && res.status === 200) {
      const html = await res.text();
      const prompt = html.includes('name="login"')
        ? { prompt: 'login', login, password: 'x' }
        : { prompt: 'consent' };
      res = await go(target.href, form(prompt));
    }
    const next = res.headers.get('location');
    if (next === null) throw new Error(`stuck at ${target.pathname}: ${res.status} ${await res.text()}`);
    location = next;
  }
  if (code === null) throw new Error('no code');
  const token = await fetch(`${issuer}/token`, {
    ...form({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      resource: RESOURCE,
    }),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`,
    },
  });
  const body = (await token.json()) as { access_token?: string };
  if (body.access_token === undefined) throw new Error(`no access token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** End the browser's session at the provider (RP-initiated logout, confirmed): it POSTs the logout tokens. */
async function signOut(issuer: string, go: ReturnType<typeof browser>): Promise<void> {
  const page = await (await go(`${issuer}/session/end`)).text();
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
  if (xsrf === undefined) throw new Error('no logout form');
  await go(`${issuer}/session/end/confirm`, form({ xsrf, logout: 'yes' }));
}

const me = (port: string, token: string) =>
  fetch(`http://127.0.0.1:${port}/me`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { error?: string; reason?: string; sub?: string },
  }));

describe.skipIf(DATABASE_URL === undefined)(
  `back-channel logout from a real OpenID Provider (oidc-provider), two app processes (skipped under PGlite: ${PGLITE_SKIP_REASON})`,
  () => {
    let db: TestDatabase;
    let op: Server;
    let issuer: string;
    let apps: RunningChild[] = [];
    let ports: string[] = [];
    const deliveries: string[] = [];

    beforeAll(async () => {
      db = await createTestDatabase('bcl');
      await migrate(db.pool, { schema: db.schema });
      op = createServer();
      await new Promise<void>((resolve) => op.listen(0, '127.0.0.1', resolve));
      issuer = `http://127.0.0.1:${(op.address() as { port: number }).port}`;
      apps = [0, 1].map(() =>
        runTs('./backchannel-child.ts', [], {
          DATABASE_URL: db.url,
          BCL_SCHEMA: db.schema,
          BCL_ISSUER: issuer,
          BCL_RESOURCE: RESOURCE,
          BCL_CLIENT_ID: CLIENT.id,
        }),
      );
      ports = await Promise.all(
        apps.map(async (app) => (await app.line((l) => l.startsWith('listening '), 30_000)).slice(10)),
      );
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: CLIENT.id,
            client_secret: CLIENT.secret,
            redirect_uris: [REDIRECT],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            // The provider knows one URI: the first process; the second learns through the store's feed.
            backchannel_logout_uri: `http://127.0.0.1:${ports[0]}/bcl`,
            backchannel_logout_session_required: true,
          },
        ],
        cookies: { keys: [randomBytes(16).toString('hex')] },
        features: {
          devInteractions: { enabled: true },
          backchannelLogout: { enabled: true },
          resourceIndicators: {
            enabled: true,
            defaultResource: () => RESOURCE,
            useGrantedResource: () => true,
            getResourceServerInfo: () => ({
              scope: 'openid',
              audience: RESOURCE,
              accessTokenFormat: 'jwt',
              accessTokenTTL: 600,
            }),
          },
        },
        // The session id in the access token, as Keycloak and Auth0 put it there.
        extraTokenClaims: (_ctx, token) =>
          'sid' in token && token.sid ? { sid: token.sid as string } : undefined,
        findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
      });
      provider.on('backchannel.success', () => deliveries.push('ok'));
      provider.on('backchannel.error', (_ctx, err) => deliveries.push(`error: ${String(err)}`));
      op.on('request', provider.callback());
    }, 60_000);

    afterAll(async () => {
      for (const app of apps) app.process.stdin?.end();
      await Promise.all(apps.map((app) => app.exited));
      await new Promise<void>((resolve) => op?.close(() => resolve()));
      await db?.close();
    });

    it('ending the session at the provider makes the next API call with that access token 401 session_revoked in both processes', async () => {
      const go = browser();
      const token = await signIn(issuer, go, `alice-${randomBytes(3).toString('hex')}`);
      const other = await signIn(issuer, browser(), 'bob');
      const [a = '', b = ''] = ports;
      for (const port of ports) {
        // Twice: the second request is a cache hit (token and user cached).
        expect((await me(port, token)).status).toBe(200);
        expect((await me(port, token)).status).toBe(200);
      }
      await signOut(issuer, go);
      expect(deliveries).toEqual(['ok']);
      expect(await me(a, token)).toMatchObject({
        status: 401,
        body: { error: 'invalid_token', reason: 'session_revoked' },
      });
      // The other process hears it on the change feed: poll within a deadline, never a fixed sleep.
      const deadline = Date.now() + 10_000;
      let answer = await me(b, token);
      while (answer.status !== 401 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        answer = await me(b, token);
      }
      expect(answer).toMatchObject({
        status: 401,
        body: { error: 'invalid_token', reason: 'session_revoked' },
      });
      // Another person's session is untouched.
      for (const port of ports) expect((await me(port, other)).status).toBe(200);
    }, 60_000);
  },
);
