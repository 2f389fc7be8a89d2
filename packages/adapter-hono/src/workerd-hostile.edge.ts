// The hostile-input kit's table (`hostileCases`, `sqlTextIdentities` of @jit-provision/testing) against a Hono app
// inside workerd (Miniflare, `nodejs_compat`): workerd/hostile-worker.mjs is the app on the BUILT adapter-hono,
// core and store-memory; this file (vitest on Node) builds each case's headers with a real createDevIssuer and
// attacker key server on loopback, sends them through `dispatchFetch`, and asserts what runHostileInputSuite
// asserts (status, `error`, WWW-Authenticate, no token echoed in body, headers or logs, zero store calls, no
// user, no attacker hit, a valid token still served) with the store-call count and logs read from the Worker.
// `fetch` sends one line per header name, so the cases of two Authorization lines are sent raw (node:http) to
// workerd's own HTTP front (Miniflare's entry socket) instead. Run once by .ci/edge.sh (EDGE_RUNTIME=workerd).
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { type HostileContext, hostileCases, sqlTextIdentities } from '@jit-provision/testing';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}
interface MiniflareLike {
  ready: Promise<URL>;
  dispatchFetch(
    url: string,
    init?: { method?: string; headers?: Array<[string, string]>; body?: string },
  ): Promise<{ status: number; headers: Iterable<[string, string]>; text(): Promise<string> }>;
  dispose(): Promise<void>;
}
type MiniflareClass = new (options: Record<string, unknown>) => MiniflareLike;
interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
}
interface WorkerState {
  calls: number;
  logCount: number;
  logs: string;
  lookups: unknown[];
}

const dir = process.env['EDGE_MINIFLARE_DIR'];
const enabled = process.env['EDGE_RUNTIME'] === 'workerd' && dir !== undefined;
const here = fileURLToPath(new URL('.', import.meta.url));
const root = createRequire(join(here, '../../../package.json'));
const AUD = 'hostile-api';

/**
 * Where workerd answers otherwise, and why. Its HTTP front (kj-http, the same under dispatchFetch and raw
 * bytes) drops an `Authorization:` line with an empty value while it keeps other empty headers, so the Worker
 * sees no header at all and the app refuses it as one: 401 `missing_token`, no store call, like the first case.
 */
const onWorkerd: Record<string, { error: 'missing_token'; why: string }> = {
  'empty Authorization header': { error: 'missing_token', why: 'workerd drops an empty Authorization line' },
};

/** workerd/hostile-worker.mjs as one ES module, only `node:*` left external. */
async function bundle(): Promise<string> {
  const esbuild = createRequire(root.resolve('tsup'))('esbuild') as EsbuildLike;
  const result = await esbuild.build({
    entryPoints: [join(here, 'workerd/hostile-worker.mjs')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    external: ['node:*'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

/** Two or more lines of one header name, exactly as written: the bytes `fetch` cannot send. */
function sendRaw(base: URL, lines: Array<[string, string]>): Promise<Answer> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of lines) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL('/me', base), { method: 'GET', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    for (const [name, values] of grouped)
      req.setHeader(name, values.length === 1 ? (values[0] as string) : values);
    req.on('error', reject);
    req.end();
  });
}

/**
 * The attacker's key server on loopback: a valid JWKS for its own key on every path, so if the SDK ever
 * followed jku/x5u the forgery would pass. `hit` counts every request it gets.
 */
async function startAttacker(
  hit: () => void,
): Promise<{ server: Server; attacker: HostileContext['attacker'] }> {
  const keys = await generateKeyPair('RS256', { extractable: true });
  const kid = 'attacker-key';
  const publicJwk: JWK = { ...(await exportJWK(keys.publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server = createServer((_req, res) => {
    hit();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, attacker: { url, kid, publicJwk, sign: (jwt) => jwt.sign(keys.privateKey) } };
}

describe.skipIf(!enabled)('hostile input: hono inside workerd (Miniflare)', () => {
  let mf: MiniflareLike;
  let entry: URL;
  let idp: DevIssuer;
  let attackerServer: Server;
  let attackerHits = 0;
  let attacker: HostileContext['attacker'];
  let counter = 0;
  const fresh = (label: string) => `${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

  const send = async (lines: Array<[string, string]>): Promise<Answer> => {
    if (new Set(lines.map(([name]) => name)).size < lines.length) return sendRaw(entry, lines);
    const response = await mf.dispatchFetch('http://worker.test/me', { headers: lines });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      text: await response.text(),
    };
  };
  const state = async (logsFrom = 0, subjects: string[] = []): Promise<WorkerState> => {
    const body = JSON.stringify({ logsFrom, subjects, issuer: idp.issuer });
    const response = await mf.dispatchFetch('http://worker.test/__hostile/state', { method: 'POST', body });
    return JSON.parse(await response.text()) as WorkerState;
  };

  beforeAll(async () => {
    idp = await createDevIssuer();
    const started = await startAttacker(() => {
      attackerHits += 1;
    });
    attackerServer = started.server;
    attacker = started.attacker;
    const path = createRequire(join(dir as string, 'package.json')).resolve('miniflare');
    const { Miniflare } = (await import(pathToFileURL(path).href)) as { Miniflare: MiniflareClass };
    mf = new Miniflare({
      modules: true,
      script: await bundle(),
      compatibilityDate: '2025-07-18',
      compatibilityFlags: ['nodejs_compat'],
      bindings: { ISSUER: idp.issuer, AUDIENCE: AUD },
    });
    entry = await mf.ready;
  });
  afterAll(async () => {
    await mf?.dispose();
    await idp?.close();
    await new Promise((resolve) => attackerServer?.close(resolve));
  });

  const healthy = async () => {
    const sub = fresh('healthy');
    const before = await state();
    const response = await send([['authorization', `Bearer ${await idp.mint({ sub }, { audience: AUD })}`]]);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({ auth: { user: { subject: sub } } });
    // Proves the Worker's counter is live: a real first login does reach the store.
    expect((await state()).calls).toBeGreaterThan(before.calls);
  };

  it('the app inside is workerd, with a live store counter', healthy);

  const cases = hostileCases.map((row) => {
    const differs = onWorkerd[row.name];
    return differs ? { ...row, name: `${row.name} (${differs.why})`, error: differs.error } : row;
  });

  it.each(cases)('$name → $status $error', async (hostile) => {
    const subject = fresh('victim');
    const lines = await hostile.headers({ idp, audience: AUD, subject, attacker });
    const before = await state();

    const response = await send(lines);

    expect(response.status).toBe(hostile.status);
    const body = JSON.parse(response.text) as { error: string; error_description: string };
    expect(body.error).toBe(hostile.error);
    expect(typeof body.error_description).toBe('string');
    if (hostile.error === 'invalid_token')
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    if (hostile.error === 'missing_token') expect(response.headers['www-authenticate']).toBe('Bearer');
    const after = await state(before.logCount, [subject, `${subject}-2`]);
    expect(after.calls - before.calls).toBe(0);
    expect(attackerHits).toBe(0);
    const secrets = lines
      .flatMap(([, value]) => value.replace(/^\s*bearer\s*/i, '').split(/[.\s,]+/))
      .filter((piece) => piece.length >= 16);
    for (const secret of secrets)
      for (const text of [response.text, JSON.stringify(response.headers), after.logs])
        expect(text).not.toContain(secret);
    expect(after.lookups).toEqual([null, null]);
    await healthy();
  });

  it('SQL-looking subjects and emails are stored verbatim, round-trip, and stay one row per identity', async () => {
    for (const { sub, email } of sqlTextIdentities) {
      const token = await idp.mint({ sub, email }, { audience: AUD });
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => send([['authorization', `Bearer ${token}`]])),
      );
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const auths = responses.map((r) => (JSON.parse(r.text) as { auth: { user: { id: string } } }).auth);
      expect(new Set(auths.map((a) => a.user.id)).size).toBe(1);
      const [stored] = (await state(0, [sub])).lookups as Array<{
        subject: string;
        email: string;
        id: string;
        username: string;
      }>;
      expect(stored).toMatchObject({ subject: sub, email, id: auths[0]?.user.id });
      expect(stored?.username.endsWith(`:${sub}`)).toBe(true);
    }
    await healthy();
  });
});
