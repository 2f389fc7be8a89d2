// src/worker.ts bundled as Wrangler would (scripts/bundle-worker.mjs: only node:* external) and run in workerd
// under Miniflare with `nodejs_compat`. Node drives it through `dispatchFetch`; the Worker fetches the JWKS
// of a real RS256 issuer on loopback through Miniflare's outbound network. Run once by .ci/edge.sh, which
// installs the pinned miniflare and points EDGE_MINIFLARE_DIR at it.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script, no declarations.
import { bundleWorker } from '../scripts/bundle-worker.mjs';

interface MiniflareLike {
  ready: Promise<unknown>;
  dispatchFetch(
    url: string,
    init?: { headers?: Record<string, string> },
  ): Promise<{
    status: number;
    headers: { get(name: string): string | null };
    json(): Promise<unknown>;
  }>;
  dispose(): Promise<void>;
}
type MiniflareClass = new (options: Record<string, unknown>) => MiniflareLike;

const dir = process.env['EDGE_MINIFLARE_DIR'];
const AUD = 'edge-api';

async function loadMiniflare(from: string): Promise<MiniflareClass> {
  const path = createRequire(join(from, 'package.json')).resolve('miniflare');
  return ((await import(pathToFileURL(path).href)) as { Miniflare: MiniflareClass }).Miniflare;
}

describe.skipIf(dir === undefined)('the Hono example as a Cloudflare Worker on workerd (Miniflare)', () => {
  let idp: DevIssuer;
  let attacker: DevIssuer;
  let mf: MiniflareLike;
  const adminSubject = 'edge-admin';
  let n = 0;
  const fresh = () => `edge-user-${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const get = (path: string, token?: string) =>
    mf.dispatchFetch(`http://worker.test${path}`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  beforeAll(async () => {
    [idp, attacker] = await Promise.all([createDevIssuer(), createDevIssuer()]);
    const { code } = (await bundleWorker()) as { code: string };
    const Miniflare = await loadMiniflare(dir as string);
    mf = new Miniflare({
      modules: true,
      script: code,
      compatibilityDate: '2025-07-18',
      compatibilityFlags: ['nodejs_compat'],
      bindings: { ISSUER: idp.issuer, AUDIENCE: AUD, ADMIN_SUBJECT: adminSubject },
    });
    await mf.ready;
  });
  afterAll(async () => {
    await mf?.dispose();
    await Promise.all([idp?.close(), attacker?.close()]);
  });

  it('a first login creates the user; the same user returning is found, not created', async () => {
    const sub = fresh();
    const token = await idp.mint({ sub, email: `${sub}@example.com` }, { audience: AUD });
    const first = await get('/me', token);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ created: true, user: { subject: sub } });
    const again = await get('/me', await idp.mint({ sub }, { audience: AUD }));
    expect(await again.json()).toMatchObject({ created: false, user: { subject: sub } });
    // The JWKS came over loopback from the Worker, once: the key is cached for the second token.
    expect(idp.jwksHits).toBe(1);
  });

  it('no token → 401 missing_token with a bare Bearer challenge', async () => {
    const response = await get('/me');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.json()).toMatchObject({ error: 'missing_token' });
  });

  const refusals: Array<[string, (sub: string) => Promise<string>]> = [
    ['expired', (sub) => idp.mint({ sub }, { audience: AUD, expiresIn: -60 })],
    ['wrong audience', (sub) => idp.mint({ sub }, { audience: 'another-api' })],
    ['untrusted issuer', (sub) => attacker.mint({ sub }, { audience: AUD })],
    ['unknown kid', (sub) => idp.mint({ sub }, { audience: AUD, header: { kid: 'no-such-kid' } })],
    [
      'alg none',
      async (sub) =>
        new UnsecuredJWT({ sub, aud: AUD }).setIssuer(idp.issuer).setExpirationTime('5m').encode(),
    ],
    [
      'tampered payload',
      async (sub) => {
        const [header, , signature] = (await idp.mint({ sub: 'someone-else' }, { audience: AUD })).split('.');
        const payload = Buffer.from(JSON.stringify({ iss: idp.issuer, sub, aud: AUD, exp: 9e9 }));
        return `${header}.${payload.toString('base64url')}.${signature}`;
      },
    ],
    ['not a JWT', async () => 'not-a-jwt'],
  ];
  it.each(refusals)('%s → 401 invalid_token, nobody created', async (_name, mint) => {
    const sub = fresh();
    const response = await get('/me', await mint(sub));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await response.json()).toMatchObject({ error: 'invalid_token' });
    // Had the refused token created its subject, this first valid login would find it instead.
    const valid = await get('/me', await idp.mint({ sub }, { audience: AUD }));
    expect(await valid.json()).toMatchObject({ created: true });
  });

  it('requireRole: a user is refused 403 forbidden; the pre-provisioned admin passes', async () => {
    const user = await get('/admin/ping', await idp.mint({ sub: fresh() }, { audience: AUD }));
    expect(user.status).toBe(403);
    expect(await user.json()).toMatchObject({ error: 'forbidden' });
    const admin = await get('/admin/ping', await idp.mint({ sub: adminSubject }, { audience: AUD }));
    expect(admin.status).toBe(200);
    expect(await admin.json()).toEqual({ ok: true });
  });

  it('many first logins at once: one user each, none lost', async () => {
    const subs = Array.from({ length: 20 }, fresh);
    const tokens = await Promise.all(subs.map((sub) => idp.mint({ sub }, { audience: AUD })));
    const bodies = await Promise.all(tokens.map(async (t) => (await get('/me', t)).json()));
    expect(bodies.map((b) => (b as { user: { subject: string } }).user.subject).sort()).toEqual(subs.sort());
  });
});
