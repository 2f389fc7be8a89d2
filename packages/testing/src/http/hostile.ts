import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import type { Logger, Provisioner, Store } from '@jit-provision/core';
import { createProvisioner } from '@jit-provision/core';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { exportJWK, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A running app under test. */
export interface HostileTestServer {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  url: string;
  close(): Promise<void>;
}

/** Options of {@link runHostileInputSuite}. */
export interface HostileSuiteOptions {
  /** Shown in the suite title. */
  name: string;
  /** A fresh, real store; the suite counts every call made on it. */
  createStore: () => Store | Promise<Store>;
  /** Driver-level query counter (e.g. a counted `pg` pool), asserted alongside the store's method calls. */
  queryCount?: () => number;
  /**
   * Start a real HTTP server on 127.0.0.1, port 0, with the adapter's `jitProvision` mounted app-wide and
   * `GET /me` answering 200 JSON `{ auth }`. Pass `maxHeaderSize` to Node's `http.createServer`, so the
   * SDK's own size limit (not Node's 16 KiB default) is what refuses huge headers.
   */
  listen(provisioner: Provisioner, server: { maxHeaderSize: number }): Promise<HostileTestServer>;
  /**
   * The largest header block, in bytes, the server lets through where that limit cannot be raised
   * (`Deno.serve` refuses a request head of 64 KiB with a 400). A case whose header lines are longer must
   * then be refused by the server itself (400 or 431), with no store call: the SDK never sees it.
   */
  serverHeaderLimit?: number;
}

/** What a hostile case may use to build its request. */
export interface HostileContext {
  idp: DevIssuer;
  audience: string;
  /** A subject unique to this case; the suite asserts no user exists for it afterwards. */
  subject: string;
  /** The attacker's key server (counts every hit) and the key it publishes. */
  attacker: { url: string; kid: string; publicJwk: JWK; sign(token: SignJWT): Promise<string> };
}

/** One row of the table: raw header lines (values are the wire bytes as latin1) and the expected answer. */
export interface HostileCase {
  name: string;
  headers(context: HostileContext): Promise<Array<[string, string]>>;
  status: 400 | 401;
  error: 'missing_token' | 'invalid_token' | 'invalid_identity';
}

const b64 = (value: string) => Buffer.from(value).toString('base64url');
const bearer = (token: string): Array<[string, string]> => [['authorization', `Bearer ${token}`]];
/** UTF-8 bytes as the latin1 string Node's client writes unchanged. */
const wire = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const mint = (
  c: HostileContext,
  claims: Record<string, unknown>,
  options: Parameters<DevIssuer['mint']>[1] = {},
) => c.idp.mint({ sub: c.subject, ...claims } as { sub: string }, { audience: c.audience, ...options });

/**
 * The hostile-input table: every malformed Authorization header, malformed or forged JWT and hostile
 * claim the SDK must refuse, with the status and stable `error` code the README's "HTTP behaviour" table
 * promises.
 */
export const hostileCases: readonly HostileCase[] = [
  { name: 'no Authorization header', headers: async () => [], status: 401, error: 'missing_token' },
  {
    name: 'empty Authorization header',
    headers: async () => [['authorization', '']],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: '"Bearer" alone',
    headers: async () => [['authorization', 'Bearer']],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: '"Bearer " and spaces',
    headers: async () => [['authorization', 'Bearer    ']],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: '"Bearer a b"',
    headers: async () => [['authorization', 'Bearer a b']],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'Basic credentials',
    headers: async () => [['authorization', 'Basic dXNlcjpwYXNz']],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'two Authorization headers (first one valid)',
    headers: async (c) => [
      ['authorization', `Bearer ${await mint(c, {})}`],
      ['authorization', `Bearer ${await mint(c, { sub: `${c.subject}-2` })}`],
    ],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'two Authorization headers (second one valid)',
    headers: async (c) => [
      ['authorization', 'Bearer x'],
      ['authorization', `Bearer ${await mint(c, {})}`],
    ],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'non-ASCII (UTF-8) token',
    headers: async () => [['authorization', wire('Bearer клю.ч€.😀')]],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'non-ASCII suffix on a valid token',
    headers: async (c) => [['authorization', wire(`Bearer ${await mint(c, {})}é`)]],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: '64 KiB header',
    headers: async () => [['authorization', `Bearer ${'a'.repeat(64 * 1024)}`]],
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'JWT with 2 segments',
    headers: async () => bearer(`${b64('{"alg":"RS256"}')}.${b64('{}')}`),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'JWT with 4 segments',
    headers: async (c) => bearer(`${await mint(c, {})}.AAAA`),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'JWT with 5 segments (JWE shape)',
    headers: async () => bearer(`${b64('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.a.b.c.d`),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'bad base64url segments',
    headers: async () => bearer('e.e.e'),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'non-JSON header segment',
    headers: async (c) => {
      const [, payload, signature] = (await mint(c, {})).split('.');
      return bearer(`${b64('not json')}.${payload}.${signature}`);
    },
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'alg none',
    headers: async (c) =>
      bearer(
        new UnsecuredJWT({ sub: c.subject, aud: c.audience })
          .setIssuer(c.idp.issuer)
          .setExpirationTime('5m')
          .encode(),
      ),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'alg None (capitalised), empty signature',
    headers: async (c) =>
      bearer(
        `${b64('{"alg":"None","typ":"JWT"}')}.${b64(JSON.stringify({ iss: c.idp.issuer, sub: c.subject, aud: c.audience, exp: 9e9 }))}.`,
      ),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'HS256 signed with the RSA public key as secret',
    headers: async (c) =>
      bearer(
        await new SignJWT({ sub: c.subject, aud: c.audience })
          .setProtectedHeader({ alg: 'HS256', kid: c.idp.currentKid })
          .setIssuer(c.idp.issuer)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(await c.idp.publicKeyPem())),
      ),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'unknown kid',
    headers: async (c) => bearer(await mint(c, {}, { header: { kid: 'no-such-kid' } })),
    status: 401,
    error: 'invalid_token',
  },
  ...(['jku', 'x5u'] as const).map(
    (param): HostileCase => ({
      name: `${param} pointing at the attacker's key server`,
      headers: async (c) =>
        bearer(
          await c.attacker.sign(
            new SignJWT({ sub: c.subject, aud: c.audience })
              .setProtectedHeader({ alg: 'RS256', kid: c.attacker.kid, [param]: `${c.attacker.url}/jwks` })
              .setIssuer(c.idp.issuer)
              .setExpirationTime('5m'),
          ),
        ),
      status: 401,
      error: 'invalid_token',
    }),
  ),
  {
    name: "embedded jwk of the attacker's key",
    headers: async (c) =>
      bearer(
        await c.attacker.sign(
          new SignJWT({ sub: c.subject, aud: c.audience })
            .setProtectedHeader({ alg: 'RS256', jwk: c.attacker.publicJwk })
            .setIssuer(c.idp.issuer)
            .setExpirationTime('5m'),
        ),
      ),
    status: 401,
    error: 'invalid_token',
  },
  {
    // jose cannot sign an unknown crit extension, so the header is swapped into a real token: verifiers
    // must refuse unknown crit before looking at the signature (RFC 7515 §4.1.11).
    name: 'crit header naming an unknown extension',
    headers: async (c) => {
      const [header, payload, signature] = (await mint(c, {})).split('.');
      const parsed = JSON.parse(Buffer.from(header ?? '', 'base64url').toString()) as Record<string, unknown>;
      return bearer(
        `${b64(JSON.stringify({ ...parsed, crit: ['x-attack'], 'x-attack': true }))}.${payload}.${signature}`,
      );
    },
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'exp missing',
    headers: async (c) => bearer(await mint(c, {}, { expiresIn: false })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'exp as a string',
    headers: async (c) => bearer(await mint(c, { exp: '9999999999' })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'exp in the past',
    headers: async (c) => bearer(await mint(c, {}, { expiresIn: -120 })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'nbf in the future',
    headers: async (c) => bearer(await mint(c, {}, { notBefore: 600 })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'iss with a trailing slash',
    headers: async (c) => bearer(await mint(c, { iss: `${c.idp.issuer}/` })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'iss with another scheme',
    headers: async (c) => bearer(await mint(c, { iss: c.idp.issuer.replace(/^http:/, 'https:') })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'aud missing',
    headers: async (c) => bearer(await c.idp.mint({ sub: c.subject })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'aud wrong',
    headers: async (c) => bearer(await mint(c, {}, { audience: 'another-api' })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'sub missing',
    headers: async (c) => bearer(await c.idp.mint({} as { sub: string }, { audience: c.audience })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'sub numeric',
    headers: async (c) => bearer(await mint(c, { sub: 12345 })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'sub empty',
    headers: async (c) => bearer(await mint(c, { sub: '' })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'sub of 256 characters',
    headers: async (c) => bearer(await mint(c, { sub: 's'.repeat(256) })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'sub with a NUL byte',
    headers: async (c) => bearer(await mint(c, { sub: `${c.subject}\u0000admin` })),
    status: 401,
    error: 'invalid_token',
  },
  // Postgres stores a lone surrogate as U+FFFD: `x\uD800` and `x\uDBFF` would land on one row.
  ...(
    [
      ['sub ending in a lone high surrogate', (sub: string) => ({ sub: `${sub}\uD800` })],
      ['sub ending in a lone low surrogate', (sub: string) => ({ sub: `${sub}\uDFFF` })],
      ['email with a lone surrogate', () => ({ email: 'a\uD800@example.com' })],
      ['name with a lone surrogate', () => ({ name: 'Eve \uDBFF' })],
      ['tenant_id with a lone surrogate', () => ({ tenant_id: 'acme\uDC00' })],
    ] as const
  ).map(
    ([name, claims]): HostileCase => ({
      name,
      headers: async (c) => bearer(await mint(c, claims(c.subject))),
      status: 401,
      error: 'invalid_token',
    }),
  ),
  {
    name: 'email with control characters',
    headers: async (c) => bearer(await mint(c, { email: 'a\u0007b\r\nX-Injected: 1@example.com' })),
    status: 400,
    error: 'invalid_identity',
  },
  {
    name: 'email of 1,000 characters',
    headers: async (c) => bearer(await mint(c, { email: `${'e'.repeat(988)}@example.com` })),
    status: 400,
    error: 'invalid_identity',
  },
];

/** Subjects and emails that are valid but look like SQL: stored verbatim, parameterised, one row each. */
export const sqlTextIdentities: ReadonlyArray<{ sub: string; email: string }> = [
  { sub: "'; DROP TABLE users; --", email: "o'reilly@example.com" },
  { sub: "x' OR '1'='1", email: "a@example.com' OR 1=1 --" },
  { sub: 'robert"); DELETE FROM jit_users; --', email: 'b@example.com;--' },
  { sub: '$1 $$ \\x00 %s %% \\', email: 'c@example.com' },
];

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** A real HTTP request with exact header lines (repeats included), so no client tidies the attack away. */
function send(url: string, lines: Array<[string, string]>, timeoutMs = 10_000): Promise<RawResponse> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of lines) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/me`, { method: 'GET', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    for (const [name, values] of grouped)
      req.setHeader(name, values.length === 1 ? (values[0] as string) : values);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`request hung past ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A real store whose every method call (nested `invitations`/`outbox` too) increments `calls`. */
function counted(store: Store): { store: Store; calls: () => number } {
  let calls = 0;
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(obj, property, receiver) {
        const value = Reflect.get(obj, property, receiver);
        if (typeof value === 'function')
          return (...args: unknown[]) => {
            calls += 1;
            return value.apply(obj, args);
          };
        if (
          typeof value === 'object' &&
          value !== null &&
          (property === 'invitations' || property === 'outbox')
        )
          return wrap(value);
        return value;
      },
    });
  return { store: wrap(store), calls: () => calls };
}

/** Pieces of what was sent that must never come back: each token segment long enough to be recognisable. */
function secretsOf(lines: Array<[string, string]>): string[] {
  return lines
    .flatMap(([, value]) => value.replace(/^\s*bearer\s*/i, '').split(/[.\s,]+/))
    .filter((piece) => piece.length >= 16);
}

/**
 * Run the hostile-input table through a real adapter on a real HTTP server: malformed Authorization
 * headers, malformed and forged JWTs (alg none, key confusion, jku/x5u/jwk, crit, unknown kid), bad
 * exp/nbf/iss/aud/sub/email claims. Each case asserts the status and stable `error` code, that no token
 * comes back in the body, headers or logs, that the store saw zero calls (and the driver zero queries),
 * that no user exists for the case's subject, that the attacker's key server got zero hits, and that the
 * app still serves a valid token afterwards. Valid-but-SQL-looking subjects and emails are stored verbatim.
 *
 * @example
 * ```ts
 * import { runHostileInputSuite } from '@jit-provision/testing';
 * import { createMemoryStore } from '@jit-provision/store-memory';
 *
 * runHostileInputSuite({
 *   name: 'express',
 *   createStore: createMemoryStore,
 *   async listen(provisioner, { maxHeaderSize }) {
 *     const app = express().use(jitProvision(provisioner)).get('/me', (req, res) => res.json({ auth: req.auth }));
 *     const server = http.createServer({ maxHeaderSize }, app).listen(0, '127.0.0.1');
 *     await once(server, 'listening');
 *     return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: async () => void server.close() };
 *   },
 * });
 * ```
 */
export function runHostileInputSuite(options: HostileSuiteOptions): void {
  describe(`hostile input: ${options.name}`, () => {
    const AUD = 'hostile-api';
    let idp: DevIssuer;
    let app: HostileTestServer;
    let store: Store;
    let calls: () => number;
    let attackerServer: Server;
    let attackerHits = 0;
    let attacker: HostileContext['attacker'];
    const logs: unknown[] = [];
    let counter = 0;
    const fresh = (label: string) => `${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      idp = await createDevIssuer();
      const keys = await generateKeyPair('RS256', { extractable: true });
      const kid = 'attacker-key';
      const publicJwk: JWK = { ...(await exportJWK(keys.publicKey)), kid, alg: 'RS256', use: 'sig' };
      // Serves a valid JWKS for its key on every path: if the SDK ever followed jku/x5u, the forgery would pass.
      attackerServer = createServer((_req, res) => {
        attackerHits += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [publicJwk] }));
      });
      await new Promise<void>((resolve) => attackerServer.listen(0, '127.0.0.1', resolve));
      const { port } = attackerServer.address() as AddressInfo;
      attacker = {
        url: `http://127.0.0.1:${port}`,
        kid,
        publicJwk,
        sign: (jwt) => jwt.sign(keys.privateKey),
      };

      const wrapped = counted(await options.createStore());
      store = wrapped.store;
      calls = wrapped.calls;
      const logger: Logger = {
        warn: (obj, msg) => void logs.push([msg, obj]),
        error: (obj, msg) => void logs.push([msg, obj]),
      };
      const provisioner = createProvisioner({
        store,
        issuers: [{ issuer: idp.issuer, audience: AUD }],
        logger,
      });
      app = await options.listen(provisioner, { maxHeaderSize: 128 * 1024 });
    });
    afterAll(async () => {
      await app?.close();
      await idp?.close();
      await new Promise((resolve) => attackerServer?.close(resolve));
    });

    const healthy = async () => {
      const sub = fresh('healthy');
      const before = { calls: calls(), queries: options.queryCount?.() };
      const response = await send(app.url, bearer(await idp.mint({ sub }, { audience: AUD })));
      expect(response.status).toBe(200);
      expect(JSON.parse(response.text)).toMatchObject({ auth: { user: { subject: sub } } });
      // Proves the counters are live: a real first login does reach the store (and the database).
      expect(calls()).toBeGreaterThan(before.calls);
      if (before.queries !== undefined) expect(options.queryCount?.()).toBeGreaterThan(before.queries);
    };

    it.each(hostileCases)('$name → $status $error', async (hostile) => {
      const subject = fresh('victim');
      const lines = await hostile.headers({ idp, audience: AUD, subject, attacker });
      const before = { calls: calls(), queries: options.queryCount?.() ?? 0, logs: logs.length };

      const response = await send(app.url, lines);

      const headBytes = lines.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
      if (options.serverHeaderLimit !== undefined && headBytes > options.serverHeaderLimit) {
        expect([400, 431]).toContain(response.status);
        expect(calls() - before.calls).toBe(0);
        expect(attackerHits).toBe(0);
        return;
      }
      expect(response.status).toBe(hostile.status);
      const body = JSON.parse(response.text) as { error: string; error_description: string };
      expect(body.error).toBe(hostile.error);
      expect(typeof body.error_description).toBe('string');
      if (hostile.error === 'invalid_token')
        expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      if (hostile.error === 'missing_token') expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(calls() - before.calls).toBe(0);
      expect((options.queryCount?.() ?? 0) - before.queries).toBe(0);
      expect(attackerHits).toBe(0);
      const echoed = [
        response.text,
        JSON.stringify(response.headers),
        inspect(logs.slice(before.logs), { depth: 8 }),
      ];
      for (const secret of secretsOf(lines)) for (const text of echoed) expect(text).not.toContain(secret);

      expect(await store.lookup({ issuer: idp.issuer, subject })).toBeNull();
      expect(await store.lookup({ issuer: idp.issuer, subject: `${subject}-2` })).toBeNull();
      await healthy();
    });

    it('SQL-looking subjects and emails are stored verbatim, round-trip, and stay one row per identity', async () => {
      for (const { sub, email } of sqlTextIdentities) {
        const token = await idp.mint({ sub, email }, { audience: AUD });
        const responses = await Promise.all(Array.from({ length: 5 }, () => send(app.url, bearer(token))));
        expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
        const auths = responses.map((r) => (JSON.parse(r.text) as { auth: { user: { id: string } } }).auth);
        expect(new Set(auths.map((a) => a.user.id)).size).toBe(1);
        const stored = await store.lookup({ issuer: idp.issuer, subject: sub });
        expect(stored).toMatchObject({ subject: sub, email, id: auths[0]?.user.id });
        expect(stored?.username.endsWith(`:${sub}`)).toBe(true);
      }
      await healthy();
    });
  });
}
