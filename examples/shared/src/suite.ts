import { randomBytes } from 'node:crypto';
import type { PostgresStore } from '@jit-provision/store-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemo, type Demo, formatCheckReport, type StoreChoice, storeChoiceFrom } from './demo';

/** A server an example started for `demo` on a free loopback port. */
export interface ExampleServer {
  url: string;
  close(): Promise<void>;
}

interface Running extends ExampleServer {
  demo: Demo;
}

/** The fields the demo API answers with (each response has some of them). */
interface Body {
  user: { id: string; subject: string; username: string; email: string | null; role: string };
  created: boolean;
  todos: unknown[];
  invitation: { email: string; role: string };
  url: string;
  error: string;
}

async function call(app: Running, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${app.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
}

/**
 * The examples' shared HTTP suite, run by each example against its own framework over real HTTP: first
 * login creates the user and its default todos once (also under racing requests), the second does not,
 * an email changed at the issuer is synced, bad tokens provision nothing, and invite-only signup admits
 * an invited user with the invited role while an uninvited one gets 403.
 */
export function runExampleSuite(name: string, listen: (demo: Demo) => Promise<ExampleServer>): void {
  /** The example as its `main.ts` runs it, on a free port. */
  async function start(options: { store?: StoreChoice; inviteOnly?: boolean } = {}): Promise<Running> {
    const demo = await createDemo(options);
    const server = await listen(demo);
    return {
      demo,
      url: server.url,
      async close() {
        await server.close();
        await demo.close();
      },
    };
  }

  // Postgres when DATABASE_URL is set (own schema, dropped afterwards), else PGlite in-process.
  const databaseUrl = process.env['DATABASE_URL'];
  const schema = `example_${name}_${randomBytes(4).toString('hex')}`;
  const postgres: StoreChoice = databaseUrl
    ? { kind: 'postgres', connectionString: databaseUrl, schema }
    : { kind: 'pglite' };

  describe.each([
    ['memory', { kind: 'memory' } as StoreChoice],
    [postgres.kind, postgres],
  ])(`${name} example on %s`, (_name, store) => {
    let app: Running;
    beforeAll(async () => {
      app = await start({ store });
    });
    afterAll(async () => {
      if (store.kind === 'postgres' && app) {
        const { pool, schema } = app.demo.invitations.store as PostgresStore;
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
      await app?.close();
    });

    it('passes the start-up check main.ts prints: both issuers and the migrated store', async () => {
      const report = await app.demo.provisioner.check();
      expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
        [`issuer ${app.demo.idp.issuer}`, true],
        [`issuer ${app.demo.op?.issuer}`, true],
        ['store', true],
      ]);
      expect(report.ok).toBe(true);
      expect(formatCheckReport(report)).toMatch(/^start-up check: ok\n {2}ok {3}issuer /);
    });

    it('creates a new user and their default todos exactly once, even for racing first requests', async () => {
      const token = await app.demo.token('carol');
      const first = await Promise.all(Array.from({ length: 8 }, () => call(app, '/me', token)));
      expect(first.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(first.filter((r) => r.body.created === true)).toHaveLength(1);
      const ids = new Set(first.map((r) => r.body.user.id));
      expect(ids.size).toBe(1);
      expect(first[0]?.body.user).toMatchObject({
        subject: 'carol',
        username: `oidc:dev-${new URL(app.demo.idp.issuer).port}:carol`,
        role: 'user',
      });

      const again = await call(app, '/me', token);
      expect(again.status).toBe(200);
      expect(again.body.created).toBe(false);
      expect(again.body.user.id).toBe(first[0]?.body.user.id);

      const todos = await call(app, '/todos', token);
      expect(todos.status).toBe(200);
      expect(todos.body.todos).toHaveLength(2);
    });

    it('syncs an email changed at the issuer onto the same user', async () => {
      const before = await call(app, '/me', await app.demo.token('erin', { email: 'erin@old.example' }));
      const after = await call(app, '/me', await app.demo.token('erin', { email: 'erin@new.example' }));
      expect(after.status).toBe(200);
      expect(after.body.created).toBe(false);
      expect(after.body.user.id).toBe(before.body.user.id);
      expect(after.body.user.email).toBe('erin@new.example');
      const stored = await app.demo.provisioner.ensureUserExists({
        issuer: app.demo.idp.issuer,
        subject: 'erin',
      });
      expect(stored.user.email).toBe('erin@new.example');
    });

    it('serves provisioner.stats() on GET /metrics in the Prometheus text format', async () => {
      const before = app.demo.provisioner.stats();
      const token = await app.demo.token('metrics-reader');
      expect((await call(app, '/me', token)).status).toBe(200);
      expect((await call(app, '/me', token)).status).toBe(200);
      expect((await call(app, '/me', `${token}x`)).status).toBe(401);
      const res = await fetch(`${app.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const sample = (line: string) =>
        Number(text.match(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm'))?.[1]);
      expect(sample('jit_requests_total{outcome="ok"}')).toBe(before.requests.ok + 2);
      expect(
        sample('jit_requests_total{outcome="invalid_token",reason="bad_signature"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(sample('jit_users_created_total')).toBe(before.usersCreated + 1);
      expect(sample('jit_cache_hits_total{cache="token"}')).toBe(before.cache.token.hits + 1);
      expect(text).toMatch(/^# TYPE jit_requests_total counter$/m);
      expect(text).not.toContain(token);
    });

    it('answers 401 without a valid token and provisions nothing', async () => {
      const missing = await call(app, '/me');
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrongAudience = await app.demo.idp.mint({ sub: 'mallory' }, { audience: 'another-api' });
      const refused = await call(app, '/me', wrongAudience);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_token');
      const stored = await app.demo.provisioner.getUser({
        issuer: app.demo.idp.issuer,
        subject: 'mallory',
      });
      expect(stored).toBeNull();
    });
  });

  describe(`${name} example with invite-only signup`, () => {
    let app: Running;
    beforeAll(async () => {
      app = await start({ inviteOnly: true });
    });
    afterAll(() => app?.close());

    it('lets only admins invite', async () => {
      const res = await call(app, '/admin/invitations', await app.demo.token('bob'), {
        email: 'x@example.com',
      });
      // bob is not invited either: refused at provisioning, before the route's own admin check.
      expect(res.status).toBe(403);
      await app.demo.provisioner.preProvision({ issuer: app.demo.idp.issuer, subject: 'bob' });
      const asUser = await call(app, '/admin/invitations', await app.demo.token('bob'), {
        email: 'x@example.com',
      });
      expect(asUser.status).toBe(403);
      expect(asUser.body.error).toBe('forbidden');
    });

    it('admits an invited first login with the invited role and refuses an uninvited one', async () => {
      const admin = await app.demo.token('admin', { email: 'admin@example.com' });
      const invited = await call(app, '/admin/invitations', admin, {
        email: 'Dave@Example.com',
        role: 'editor',
      });
      expect(invited.status).toBe(201);
      expect(invited.body.invitation).toMatchObject({ email: 'dave@example.com', role: 'editor' });
      expect(invited.body.url).toMatch(/\/invite\?token=/);

      // The link opens the invitation page, which peeks before any login: whom it is for, nothing consumed.
      const link = new URL(invited.body.url);
      const page = await fetch(`${app.url}${link.pathname}${link.search}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="/pages/invite.js">');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      const peek = `/admin/api/invitations/peek${link.search}`;
      const landing = await call(app, peek);
      expect(landing.status).toBe(200);
      expect(landing.body).toMatchObject({ email: 'dave@example.com', role: 'editor' });
      expect((await call(app, peek)).status).toBe(200);
      const forged = await call(app, '/admin/api/invitations/peek?token=forged');
      expect(forged.status).toBe(404);
      expect(forged.body.error).toBe('not_found');

      const bad = await call(app, '/admin/invitations', admin, { email: 'not-an-email' });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('invalid_request');

      const dave = await call(app, '/me', await app.demo.token('dave', { email: 'dave@example.com' }));
      expect(dave.status).toBe(200);
      expect(dave.body.created).toBe(true);
      expect(dave.body.user.role).toBe('editor');
      expect((await call(app, '/todos', await app.demo.token('dave'))).body.todos).toHaveLength(2);

      const eve = await call(app, '/me', await app.demo.token('eve', { email: 'eve@example.com' }));
      expect(eve.status).toBe(403);
      expect(eve.body.error).toBe('invitation_required');
      const stored = await app.demo.provisioner.getUser({
        issuer: app.demo.idp.issuer,
        subject: 'eve',
      });
      expect(stored).toBeNull();
    });
  });

  describe(`${name} example's store choice`, () => {
    it('a Postgres store without DATABASE_URL names the variable', () => {
      for (const [argv, env] of [
        [['--postgres'], {}],
        [[], { JIT_STORE: 'postgres', DATABASE_URL: ' ' }],
      ] as const) {
        expect(() => storeChoiceFrom(argv, env)).toThrow(/DATABASE_URL/);
      }
      expect(storeChoiceFrom([], { DATABASE_URL: 'postgres://x@127.0.0.1/db' })).toEqual({
        kind: 'postgres',
        connectionString: 'postgres://x@127.0.0.1/db',
      });
      expect(storeChoiceFrom([], {})).toEqual({ kind: 'memory' });
      expect(() => storeChoiceFrom([], { JIT_STORE: 'mysql' })).toThrow(/JIT_STORE/);
    });
  });
}
