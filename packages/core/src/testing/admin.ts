import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminApiOptions } from '../admin-api';
import { createDevIssuer, type DevIssuer } from '../dev';
import { createInvitationService, type InvitationMessage } from '../invitations';
import { createProvisioner } from '../provisioner';
import type { Store } from '../store';
import { sleep } from '../timers';

/** One request to the mounted admin API; `body` is sent as is, `ip` is the client address to present. */
export interface AdminTestRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Including the mount prefix `/admin/api`, and the query string. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  ip?: string;
}

/** What the API answered; header names lower-case; `body` parsed JSON, undefined when empty. */
export interface AdminTestResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** An app with the adapter's `adminApi(options)` mounted under `/admin/api`. */
export interface AdminTestApp {
  request(request: AdminTestRequest): Promise<AdminTestResponse>;
  close?(): void | Promise<void>;
}

/** Options of {@link runAdminApiSuite}. */
export interface AdminApiSuiteOptions {
  /** Shown in the suite title. */
  name: string;
  /** A real store with invitations (and outbox, for the outbox case); may be shared by the cases. */
  createStore: () => Store | Promise<Store>;
  /**
   * Mount the adapter's `adminApi(options)` under `/admin/api`. Requests must go through the framework's
   * real pipeline, and `request.ip` must reach the route as the client address (e.g. `X-Forwarded-For`
   * with the framework's proxy trust on, or its inject/env option).
   */
  mount(options: AdminApiOptions): AdminTestApp | Promise<AdminTestApp>;
}

const AUD = 'admin-api';
const SECRET = 'a-32-byte-secret-for-invitations!';
const quiet = { warn: () => {}, error: () => {} };
const DEADLINE_MS = 20_000;

/**
 * The admin API matrix every adapter runs over its real framework, with real JWTs from a local issuer: 401
 * (no or bad token, a cookie is not a credential) and 403 `forbidden` on every admin route; users (get, create,
 * 409 on an existing identity); invitations (create, list without any token or hash, revoke soft and hard,
 * purge); bulk invitations (202, progress polled until done, repeats and already-pending emails skipped,
 * a failed delivery reported); outbox list and retry; 422 naming the field; 413 over the body limit; the
 * public `peek` (one 404 for unknown, consumed, revoked and expired tokens) and its per-address rate limit
 * (429 with `Retry-After`). Bodies are asserted exactly, so every adapter that passes answers alike.
 *
 * @example
 * ```ts
 * import { runAdminApiSuite } from '@jit-provision/core/testing';
 *
 * runAdminApiSuite({
 *   name: 'hono',
 *   createStore: createMemoryStore,
 *   mount(options) {
 *     const app = new Hono().route('/admin/api', adminApi(options));
 *     return {
 *       async request({ method, path, headers, body }) {
 *         const res = await app.request(path, { method, headers, body });
 *         const text = await res.text();
 *         return { status: res.status, headers: Object.fromEntries(res.headers), body: text ? JSON.parse(text) : undefined };
 *       },
 *     };
 *   },
 * });
 * ```
 */
export function runAdminApiSuite(options: AdminApiSuiteOptions): void {
  describe(`admin API: ${options.name}`, () => {
    let idp: DevIssuer;
    const apps: AdminTestApp[] = [];
    beforeAll(async () => {
      idp = await createDevIssuer();
    });
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close?.()));
      await idp?.close();
    });

    /** A fresh app over the store; `tag` keeps this case's emails and subjects apart on a shared store. */
    async function setup(overrides: Partial<AdminApiOptions> = {}, failFor?: string) {
      const store = await options.createStore();
      const tag = randomBytes(4).toString('hex');
      const sent: InvitationMessage[] = [];
      const invitations = createInvitationService({
        store,
        secret: SECRET,
        urlFor: (token) => `https://app.example.com/invite?token=${token}`,
        send: async (message) => {
          if (message.email === failFor) throw new Error('mailbox unavailable');
          sent.push(message);
        },
      });
      const provisioner = createProvisioner({
        store,
        issuers: [{ issuer: idp.issuer, audience: AUD }],
        logger: quiet,
        ...(store.outbox === undefined ? {} : { hookDelivery: 'outbox' as const }),
      });
      const app = await options.mount({
        provisioner,
        invitations,
        bulk: { perSecond: 1_000 },
        ...overrides,
      });
      apps.push(app);
      const admin = await provisioner.preProvision({
        issuer: idp.issuer,
        subject: `admin-${tag}`,
        email: `admin-${tag}@example.com`,
        role: 'admin',
      });
      const adminToken = await idp.mint({ sub: admin.subject }, { audience: AUD });
      const userToken = await idp.mint({ sub: `user-${tag}` }, { audience: AUD });
      const call = (
        method: AdminTestRequest['method'],
        path: string,
        body?: unknown,
        token: string | null = adminToken,
        extra: Partial<AdminTestRequest> = {},
      ) => {
        const headers: Record<string, string> = { ...extra.headers };
        if (token !== null) headers['authorization'] = `Bearer ${token}`;
        if (body !== undefined) headers['content-type'] = 'application/json';
        return app.request({
          method,
          path: `/admin/api${path}`,
          headers,
          ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
          ...(extra.ip === undefined ? {} : { ip: extra.ip }),
        });
      };
      const email = (name: string) => `${name}-${tag}@example.com`;
      return { call, store, invitations, provisioner, admin, adminToken, userToken, sent, tag, email };
    }

    const fieldError = (field: string) => ({
      status: 422,
      body: { error: 'invalid_field', field, error_description: expect.any(String) },
    });

    it('every admin route: 401 without or with a bad token (a cookie is no credential), 403 forbidden for a non-admin; nothing changes', async () => {
      const { call, userToken, invitations, email } = await setup();
      const routes: [AdminTestRequest['method'], string, unknown?][] = [
        ['GET', '/users/some-id'],
        ['POST', '/users', { issuer: 'https://idp.example.com', subject: 'x' }],
        ['GET', '/invitations'],
        ['POST', '/invitations', { email: email('nobody') }],
        ['POST', '/invitations/bulk', { emails: [email('nobody')] }],
        ['GET', '/invitations/bulk/some-job'],
        ['DELETE', '/invitations/some-id'],
        ['POST', '/invitations/purge', {}],
        ['GET', '/outbox'],
        ['POST', '/outbox/some-id/retry'],
      ];
      const forged = await idp.mint({ sub: 'admin-forged' }, { audience: 'another-api' });
      for (const [method, path, body] of routes) {
        const none = await call(method, path, body, null, { headers: { cookie: 'session=admin' } });
        expect(none, `${method} ${path}`).toMatchObject({
          status: 401,
          headers: { 'www-authenticate': 'Bearer' },
          body: { error: 'missing_token' },
        });
        const bad = await call(method, path, body, forged);
        expect(bad, `${method} ${path}`).toMatchObject({
          status: 401,
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          body: { error: 'invalid_token' },
        });
        const user = await call(method, path, body, userToken);
        expect(user, `${method} ${path}`).toMatchObject({ status: 403, body: { error: 'forbidden' } });
      }
      const mine = (await invitations.list()).filter((i) => i.email === email('nobody'));
      expect(mine).toEqual([]);
    });

    it('a custom authorize decides who is an admin', async () => {
      const { call, adminToken, userToken } = await setup({
        authorize: (auth) => auth.user.subject.startsWith('user-'),
      });
      expect((await call('GET', '/invitations', undefined, userToken)).status).toBe(200);
      expect(await call('GET', '/invitations', undefined, adminToken)).toMatchObject({
        status: 403,
        body: { error: 'forbidden' },
      });
    });

    it('users: GET /users/:id 200 and 404; POST /users 201 then 409 user_exists; 422 names the field', async () => {
      const { call, admin, tag } = await setup();
      const got = await call('GET', `/users/${admin.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: admin.id, role: 'admin', subject: admin.subject });
      expect(got.headers['cache-control']).toBe('no-store');
      expect(await call('GET', '/users/no-such-user')).toMatchObject({
        status: 404,
        body: { error: 'user_not_found' },
      });
      const input = {
        issuer: 'https://idp.example.com',
        subject: `pre-${tag}`,
        email: `pre-${tag}@example.com`,
        role: 'editor',
      };
      const created = await call('POST', '/users', input);
      expect(created).toMatchObject({ status: 201, body: { subject: input.subject, role: 'editor' } });
      const again = await call('POST', '/users', { ...input, role: 'admin' });
      expect(again).toMatchObject({ status: 409, body: { error: 'user_exists' } });
      const id = (created.body as { id: string }).id;
      expect((await call('GET', `/users/${id}`)).body).toMatchObject({ role: 'editor' });
      expect(await call('POST', '/users', { subject: 'x' })).toMatchObject(fieldError('issuer'));
      expect(
        await call('POST', '/users', { issuer: 'https://i', subject: 'x', role: 'no spaces' }),
      ).toMatchObject(fieldError('role'));
      expect(await call('POST', '/users', { issuer: 'https://i', subject: 'x', email: 7 })).toMatchObject(
        fieldError('email'),
      );
      expect(await call('POST', '/users', [1])).toMatchObject({
        status: 400,
        body: { error: 'invalid_request' },
      });
    });

    it('invitations: create 201 with a url, list with status and without any token or hash, 422 per field', async () => {
      const { call, admin, email, sent } = await setup();
      const before = Date.now();
      const created = await call('POST', '/invitations', {
        email: email('Ada').toUpperCase(),
        role: 'editor',
        expiresInMs: 3_600_000,
      });
      const after = Date.now();
      expect(created.status).toBe(201);
      const { invitation, url } = created.body as { invitation: Record<string, unknown>; url: string };
      expect(invitation).toMatchObject({
        email: email('ada'),
        role: 'editor',
        status: 'pending',
        invitedBy: admin.id,
      });
      expect(url).toMatch(/^https:\/\/app\.example\.com\/invite\?token=[A-Za-z0-9_-]{43}$/);
      expect(sent.map((m) => m.url)).toEqual([url]);
      // The app's clock sets expiresAt (a database may set createdAt by its own).
      const expiresAt = Date.parse(invitation['expiresAt'] as string);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(expiresAt).toBeLessThanOrEqual(after + 3_600_000);

      const listed = await call('GET', '/invitations?status=pending');
      expect(listed.status).toBe(200);
      const text = JSON.stringify(listed.body);
      expect(text).not.toMatch(/"token"|tokenHash|token_hash/i);
      expect(text).not.toContain(url.split('token=')[1]);
      const ours = (listed.body as { invitations: { id: string }[] }).invitations.filter(
        (i) => i.id === invitation['id'],
      );
      expect(ours).toHaveLength(1);
      expect(Object.keys(ours[0] as object).sort()).toEqual([
        'consumedAt',
        'createdAt',
        'email',
        'expiresAt',
        'id',
        'invitedBy',
        'revokedAt',
        'role',
        'status',
      ]);
      const consumed = await call('GET', '/invitations?status=consumed');
      expect((consumed.body as { invitations: { id: string }[] }).invitations.map((i) => i.id)).not.toContain(
        invitation['id'],
      );

      expect(await call('GET', '/invitations?status=lost')).toMatchObject(fieldError('status'));
      expect(await call('POST', '/invitations', { email: 'not-an-address' })).toMatchObject(
        fieldError('email'),
      );
      expect(await call('POST', '/invitations', {})).toMatchObject(fieldError('email'));
      expect(await call('POST', '/invitations', { email: email('b'), role: '' })).toMatchObject(
        fieldError('role'),
      );
      expect(await call('POST', '/invitations', { email: email('b'), expiresInMs: -5 })).toMatchObject(
        fieldError('expiresInMs'),
      );
      expect(await call('POST', '/invitations', { email: email('b'), expiresInMs: '1d' })).toMatchObject(
        fieldError('expiresInMs'),
      );
      expect(sent).toHaveLength(1);
    });

    it('413 payload_too_large over the body limit, nothing created', async () => {
      const { call, email, sent } = await setup();
      const big = await call('POST', '/invitations', { email: email('big'), pad: 'x'.repeat(1_100_000) });
      expect(big).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
      expect(sent).toHaveLength(0);
    });

    it('DELETE /invitations/:id: soft keeps it as revoked, hard removes it, 404 for unknown; purge answers a count', async () => {
      const { call, email, invitations } = await setup();
      const a = await invitations.create({ email: email('soft'), invitedBy: 'x' });
      const b = await invitations.create({ email: email('hard'), invitedBy: 'x' });
      const soft = await call('DELETE', `/invitations/${a.invitation.id}?soft=true`);
      expect(soft.status).toBe(204);
      expect(soft.body).toBeUndefined();
      expect((await call('DELETE', `/invitations/${b.invitation.id}`)).status).toBe(204);
      const all = (await invitations.list()).filter((i) => [a.invitation.id, b.invitation.id].includes(i.id));
      expect(all.map((i) => [i.id, i.revokedAt !== null])).toEqual([[a.invitation.id, true]]);
      expect(await call('DELETE', `/invitations/${b.invitation.id}`)).toMatchObject({
        status: 404,
        body: { error: 'not_found' },
      });
      expect(await call('DELETE', `/invitations/${a.invitation.id}?soft=maybe`)).toMatchObject(
        fieldError('soft'),
      );
      const purged = await call('POST', '/invitations/purge', { olderThanMs: 0 });
      expect(purged.status).toBe(200);
      expect((purged.body as { purged: number }).purged).toBeGreaterThanOrEqual(1);
      expect((await invitations.list()).map((i) => i.id)).not.toContain(a.invitation.id);
      expect(await call('POST', '/invitations/purge', { olderThanMs: -1 })).toMatchObject(
        fieldError('olderThanMs'),
      );
    });

    it('bulk: 202 with a job; progress until done; repeats and pending emails skipped; a failed delivery reported', async () => {
      const { call, email, invitations, sent } = await setup({ maxBulk: 40 });
      await invitations.create({ email: email('already'), invitedBy: 'x' });
      const fresh = Array.from({ length: 25 }, (_, i) => email(`bulk${i}`));
      const emails = [
        ...fresh,
        email('bulk3').toUpperCase(),
        { email: email('already') },
        { email: email('boss'), role: 'editor' },
      ];
      const started = await call('POST', '/invitations/bulk', { emails, role: 'viewer' });
      expect(started.status).toBe(202);
      const { job } = started.body as { job: string };
      expect(job).toEqual(expect.any(String));
      type Progress = {
        total: number;
        done: number;
        sent: number;
        skipped: number;
        failed: number;
        results: { email: string; status: string; reason?: string; invitationId?: string }[];
      };
      let progress: Progress | undefined;
      const deadline = Date.now() + DEADLINE_MS;
      for (;;) {
        const res = await call('GET', `/invitations/bulk/${job}`);
        expect(res.status).toBe(200);
        progress = res.body as Progress;
        expect(progress.done).toBe(progress.sent + progress.skipped + progress.failed);
        if (progress.done === progress.total || Date.now() > deadline) break;
        await sleep(10);
      }
      expect(progress).toMatchObject({ total: 28, done: 28, sent: 26, skipped: 2, failed: 0 });
      expect(progress.results[25]).toEqual({ email: email('bulk3'), status: 'skipped', reason: 'duplicate' });
      expect(progress.results[26]).toEqual({ email: email('already'), status: 'skipped', reason: 'pending' });
      expect(progress.results[0]).toEqual({
        email: fresh[0],
        status: 'sent',
        invitationId: expect.any(String),
      });
      const pending = (await invitations.list({ status: 'pending' })).filter((i) =>
        i.email.endsWith(`@example.com`),
      );
      expect(pending.find((i) => i.email === email('boss'))?.role).toBe('editor');
      expect(pending.find((i) => i.email === email('bulk7'))?.role).toBe('viewer');
      expect(sent.filter((m) => m.email === email('bulk3'))).toHaveLength(1);
      expect(JSON.stringify(progress)).not.toMatch(/token/i);

      expect(await call('GET', '/invitations/bulk/no-such-job')).toMatchObject({
        status: 404,
        body: { error: 'not_found' },
      });
      const tooMany = Array.from({ length: 41 }, (_, i) => email(`many${i}`));
      expect(await call('POST', '/invitations/bulk', { emails: tooMany })).toMatchObject(
        fieldError('emails'),
      );
      expect(await call('POST', '/invitations/bulk', { emails: [] })).toMatchObject(fieldError('emails'));
      expect(await call('POST', '/invitations/bulk', { emails: [email('ok'), 'nope'] })).toMatchObject(
        fieldError('emails[1]'),
      );
      expect(
        await call('POST', '/invitations/bulk', { emails: [{ email: email('ok'), role: '!' }] }),
      ).toMatchObject(fieldError('emails[0].role'));
      expect(await call('POST', '/invitations/bulk', { emails: [email('ok')], role: '' })).toMatchObject(
        fieldError('role'),
      );
    });

    it('bulk: a delivery that fails is reported per email, the rest go out', async () => {
      const tag = randomBytes(4).toString('hex');
      const failing = `x-${tag}@example.com`;
      const { call, sent } = await setup({}, failing);
      const emails = [`a-${tag}@example.com`, failing, `b-${tag}@example.com`];
      const started = await call('POST', '/invitations/bulk', { emails });
      const { job } = started.body as { job: string };
      type Progress = { done: number; total: number; failed: number; sent: number; results: unknown[] };
      let body = (await call('GET', `/invitations/bulk/${job}`)).body as Progress;
      const deadline = Date.now() + DEADLINE_MS;
      while (body.done < body.total && Date.now() < deadline) {
        await sleep(10);
        body = (await call('GET', `/invitations/bulk/${job}`)).body as Progress;
      }
      expect(body).toMatchObject({ total: 3, done: 3, sent: 2, failed: 1 });
      expect(body.results[1]).toEqual({ email: failing, status: 'failed', error: 'delivery_failed' });
      expect(sent.map((m) => m.email).sort()).toEqual([emails[0], emails[2]].sort());
    });

    it('peek: 200 for a pending invitation without any auth; one indistinguishable 404 for unknown, consumed, revoked and expired', async () => {
      const { call, email, invitations, store } = await setup();
      const peek = (token: string) =>
        call('GET', `/invitations/peek?token=${encodeURIComponent(token)}`, undefined, null);
      const pending = await invitations.create({ email: email('peek'), role: 'editor', invitedBy: 'x' });
      const ok = await peek(pending.token);
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({
        email: email('peek'),
        role: 'editor',
        expiresAt: pending.invitation.expiresAt.toISOString(),
      });
      expect(ok.headers['referrer-policy']).toBe('no-referrer');

      const consumed = await invitations.create({ email: email('used'), invitedBy: 'x' });
      await invitations.consume({ token: consumed.token, email: email('used') });
      const revoked = await invitations.create({ email: email('gone'), invitedBy: 'x' });
      await invitations.revoke(revoked.invitation.id, { soft: true });
      // Created "eight days ago" by a service over the same store and secret: expired now.
      const past = createInvitationService({
        store,
        secret: SECRET,
        now: () => new Date(Date.now() - 8 * 86_400_000),
      });
      const expired = await past.create({ email: email('old'), invitedBy: 'x' });
      const unknown = randomBytes(32).toString('base64url');
      const answers = await Promise.all(
        [unknown, consumed.token, revoked.token, expired.token, 'short'].map(peek),
      );
      const strip = (r: { status: number; headers: Record<string, string>; body: unknown }) => ({
        status: r.status,
        body: r.body,
        type: r.headers['content-type'],
        cache: r.headers['cache-control'],
      });
      expect(strip(answers[0] as (typeof answers)[0])).toEqual({
        status: 404,
        body: { error: 'not_found', error_description: expect.any(String) },
        type: expect.stringContaining('application/json'),
        cache: 'no-store',
      });
      for (const answer of answers) expect(strip(answer)).toEqual(strip(answers[0] as (typeof answers)[0]));
      expect(await call('GET', '/invitations/peek', undefined, null)).toMatchObject(fieldError('token'));
    });

    it('peek is rate-limited per client address: 429 rate_limited with Retry-After, other addresses unaffected', async () => {
      const { call } = await setup({ peekRateLimit: { burst: 3, perSecond: 0.001 } });
      const token = randomBytes(32).toString('base64url');
      const peek = (ip: string) => call('GET', `/invitations/peek?token=${token}`, undefined, null, { ip });
      for (let i = 0; i < 3; i++) expect((await peek('203.0.113.7')).status).toBe(404);
      const limited = await peek('203.0.113.7');
      expect(limited).toMatchObject({ status: 429, body: { error: 'rate_limited' } });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await peek('198.51.100.9')).status).toBe(404);
    });

    it('outbox: GET /outbox lists events by status; retry makes a failed one pending again; 404 for unknown', async (context) => {
      const { call, store, provisioner, tag } = await setup();
      const outbox = store.outbox;
      if (outbox?.retry === undefined) return context.skip('this store has no outbox retry');
      const { user } = await provisioner.ensureUserExists({
        issuer: 'https://idp.example.com',
        subject: `ob-${tag}`,
      });
      const [event] = await outbox.list({ userIds: [user.id] });
      expect(event).toBeDefined();
      const id = event?.id as string;
      // Claim it like a dispatcher would and give up on it for good.
      for (let claimed = false, i = 0; !claimed && i < 100; i++) {
        claimed = (await outbox.claim({ limit: 100, leaseMs: 60_000 })).some((e) => e.id === id);
      }
      await outbox.fail(id, { error: 'receiver down', retryAt: null });
      const failed = await call('GET', '/outbox?status=failed&limit=1000');
      expect(failed.status).toBe(200);
      expect(
        (failed.body as { events: { id: string; status: string }[] }).events.find((e) => e.id === id),
      ).toMatchObject({ status: 'failed' });
      expect(await call('POST', `/outbox/${id}/retry`)).toMatchObject({
        status: 200,
        body: { id, status: 'pending' },
      });
      const [after] = await outbox.list({ userIds: [user.id] });
      expect(after).toMatchObject({ id, status: 'pending', attempts: 0 });
      expect(await call('POST', '/outbox/no-such-event/retry')).toMatchObject({
        status: 404,
        body: { error: 'not_found' },
      });
      expect(await call('GET', '/outbox?status=lost')).toMatchObject(fieldError('status'));
      expect(await call('GET', '/outbox?limit=0')).toMatchObject(fieldError('limit'));
    });
  });
}
