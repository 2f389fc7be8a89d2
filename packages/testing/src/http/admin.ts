import { randomBytes } from 'node:crypto';
import type { Provisioner, Store, UserEvent, UserRecord } from '@jit-provision/core';
import { createInvitationService, createProvisioner, type InvitationMessage } from '@jit-provision/core';
import type { AdminApiOptions } from '@jit-provision/core/admin';
import type { DevIssuer } from '@jit-provision/core/dev';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { sleep } from '../sleep';
import { suiteIssuer } from './issuers';

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

/** The suite-wide state every case's app is set up in. */
interface AdminSuiteState {
  readonly options: AdminApiSuiteOptions;
  /** The local issuer, started in `beforeAll`. */
  readonly idp: DevIssuer;
  readonly apps: AdminTestApp[];
  /** Every case's provisioner reports here: on a shared store, any case's outbox dispatcher may deliver. */
  readonly userEvents: UserEvent[];
}

/** What every case group of the admin suite gets: a fresh app per case, the issuer, the reported events. */
interface AdminSuite {
  readonly idp: DevIssuer;
  setup(overrides?: Partial<AdminApiOptions>, behaviour?: CaseBehaviour): Promise<AdminCase>;
  eventsOf(userId: string, types: string[]): Promise<UserEvent[]>;
}

type AdminCase = Awaited<ReturnType<typeof setupCase>>;

/** How a case's invitation delivery and event hooks behave. */
interface CaseBehaviour {
  /** `send` throws for this email. */
  failFor?: string;
  /** Report user events to the suite (default true). */
  events?: boolean;
  /** Every `send` waits until the case calls `release()` (or ends), so bulk jobs stay running. */
  holdSends?: boolean;
}

/** A fresh app over the store; `tag` keeps this case's emails and subjects apart on a shared store. */
async function setupCase(
  { options, idp, apps, userEvents }: AdminSuiteState,
  overrides: Partial<AdminApiOptions> = {},
  { failFor, events = true, holdSends = false }: CaseBehaviour = {},
) {
  const store = await options.createStore();
  const tag = randomBytes(4).toString('hex');
  const sent: InvitationMessage[] = [];
  /** When each delivery started (`Date.now()`), in order. */
  const sendTimes: number[] = [];
  let release = () => {};
  const held = holdSends ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  onTestFinished(() => release());
  const invitations = createInvitationService({
    store,
    secret: SECRET,
    urlFor: (token) => `https://app.example.com/invite?token=${token}`,
    send: async (message) => {
      sendTimes.push(Date.now());
      await held;
      if (message.email === failFor) throw new Error('mailbox unavailable');
      sent.push(message);
    },
  });
  const provisioner = createProvisioner({
    store,
    issuers: [{ issuer: idp.issuer, audience: AUD }],
    logger: quiet,
    ...(events ? { onUserEvent: [(event: UserEvent) => void userEvents.push(event)] } : {}),
    ...(store.outbox === undefined ? {} : { hookDelivery: 'outbox' as const }),
  });
  // Its outbox dispatcher stops with the case, so it cannot claim a later case's events on a shared store.
  onTestFinished(() => provisioner.close());
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
  /** A user of this case, created directly; `token()` mints a bearer token for them. */
  const person = async (name: string, role?: string) => {
    const user = await provisioner.preProvision({
      issuer: idp.issuer,
      subject: `${name}-${tag}`,
      email: email(name),
      ...(role === undefined ? {} : { role }),
    });
    return { user, token: () => idp.mint({ sub: user.subject }, { audience: AUD }) };
  };
  return {
    call,
    store,
    invitations,
    provisioner,
    admin,
    adminToken,
    userToken,
    sent,
    sendTimes,
    release: () => release(),
    tag,
    email,
    person,
  };
}

/** Wait (with a deadline) until the events of `userId` have these types, and answer them. */
async function eventsOf(
  userEvents: readonly UserEvent[],
  userId: string,
  types: string[],
): Promise<UserEvent[]> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const mine = userEvents.filter((e) => e.userId === userId);
    if (mine.length >= types.length || Date.now() > deadline) {
      // Outbox delivery may reorder events of one user; the set of types is what must match.
      expect(mine.map((e) => e.type).sort()).toEqual([...types].sort());
      return mine;
    }
    await sleep(10);
  }
}

/** Poll a bulk job (with a deadline) until every entry is done; answer its last progress. */
async function jobDone(call: AdminCase['call'], job: string): Promise<BulkProgress> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const res = await call('GET', `/invitations/bulk/${job}`);
    expect(res.status).toBe(200);
    const progress = res.body as BulkProgress;
    expect(progress.done).toBe(progress.sent + progress.skipped + progress.failed);
    if (progress.done === progress.total || Date.now() > deadline) return progress;
    await sleep(10);
  }
}

type BulkProgress = {
  total: number;
  done: number;
  sent: number;
  skipped: number;
  failed: number;
  results: { email: string; status: string; reason?: string; invitationId?: string; error?: string }[];
};

const forbidden = { status: 403, body: { error: 'forbidden' } };

const fieldError = (field: string) => ({
  status: 422,
  body: { error: 'invalid_field', field, error_description: expect.any(String) },
});

/** Disable every other active admin of the store (a shared store holds other cases' admins). */
async function onlyAdmin(provisioner: Provisioner, keep: string): Promise<void> {
  for (;;) {
    const { users } = await provisioner.listUsers({ role: 'admin', status: 'active', limit: 500 });
    const others = users.filter((u) => u.id !== keep);
    if (others.length === 0) return;
    for (const u of others) await provisioner.disable(u.id);
  }
}

/** Every admin route refuses a missing, bad or non-admin credential; `authorize` decides who is an admin. */
function authorizationCases(suite: AdminSuite): void {
  const { setup } = suite;
  it('every admin route: 401 without or with a bad token (a cookie is no credential), 403 forbidden for a non-admin; nothing changes', async () => {
    const { call, userToken, invitations, email } = await setup();
    const routes: [AdminTestRequest['method'], string, unknown?][] = [
      ['GET', '/users'],
      ['GET', '/users/some-id'],
      ['POST', '/users', { issuer: 'https://idp.example.com', subject: 'x' }],
      ['PATCH', '/users/some-id', { role: 'admin' }],
      ['DELETE', '/users/some-id'],
      ['POST', '/users/some-id/revoke-sessions'],
      ['GET', '/invitations'],
      ['POST', '/invitations', { email: email('nobody') }],
      ['POST', '/invitations/bulk', { emails: [email('nobody')] }],
      ['GET', '/invitations/bulk/some-job'],
      ['DELETE', '/invitations/some-id'],
      ['POST', '/invitations/purge', {}],
      ['GET', '/outbox'],
      ['POST', '/outbox/some-id/retry'],
    ];
    const forged = await suite.idp.mint({ sub: 'admin-forged' }, { audience: 'another-api' });
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
}

/** The admin API is for people: a machine client's token is refused, whatever `authorize` says. */
function clientCases(suite: AdminSuite): void {
  const { setup } = suite;
  it('a machine client (client-credentials token) is refused on every admin route (403), even one named like the admin', async () => {
    const { call, admin, invitations, email } = await setup({ authorize: () => true });
    const clients = [
      // RFC 9068: client_id equal to sub, here the admin's own subject; Auth0's marks; Okta's.
      await suite.idp.mint(
        { sub: admin.subject, client_id: admin.subject, scope: 'admin' },
        { audience: AUD },
      ),
      await suite.idp.mint({ sub: 'svc@clients', azp: 'svc', gty: 'client-credentials' }, { audience: AUD }),
      await suite.idp.mint({ sub: '0oa-svc', cid: '0oa-svc' }, { audience: AUD }),
    ];
    for (const token of clients) {
      for (const [method, path, body] of [
        ['GET', '/users'],
        ['POST', '/invitations', { email: email('client') }],
        ['PATCH', `/users/${admin.id}`, { role: 'user' }],
      ] as const) {
        expect(await call(method, path, body, token), `${method} ${path}`).toMatchObject(forbidden);
      }
    }
    expect((await invitations.list()).filter((i) => i.email === email('client'))).toEqual([]);
    expect((await call('GET', `/users/${admin.id}`)).body).toMatchObject({ role: 'admin' });
  });
}

/** Users: get one, create, list with filters and pages. */
function userReadCases(suite: AdminSuite): void {
  const { setup } = suite;
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

  it('GET /users: query, role and status filters; pages with nextCursor; 422 names the field', async () => {
    const { call, admin, person, tag, provisioner } = await setup();
    const made: UserRecord[] = [admin];
    for (let i = 0; i < 5; i++)
      made.push((await person(`list${i}`, i % 2 === 0 ? 'editor' : undefined)).user);
    await provisioner.disable(made[3]?.id as string);
    type Page = { users: UserRecord[]; nextCursor: string | null };
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(
        'GET',
        `/users?query=${tag}&limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const page = res.body as Page;
      expect(page.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.users.map((u) => u.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect([...seen].sort()).toEqual(made.map((u) => u.id).sort());
    const ids = async (path: string) =>
      ((await call('GET', path)).body as Page).users.map((u) => u.id).sort();
    expect(await ids(`/users?query=${tag}&role=editor`)).toEqual(
      [made[1], made[3], made[5]].map((u) => u?.id).sort(),
    );
    expect(await ids(`/users?query=${tag}&status=disabled`)).toEqual([made[3]?.id]);
    expect(await ids(`/users?query=${tag}&status=active&role=editor`)).toEqual(
      [made[1], made[5]].map((u) => u?.id).sort(),
    );
    expect((await call('GET', `/users?query=${tag}`)).body).toMatchObject({ nextCursor: null });
    expect(await call('GET', '/users?role=no%20spaces')).toMatchObject(fieldError('role'));
    expect(await call('GET', '/users?status=banned')).toMatchObject(fieldError('status'));
    expect(await call('GET', '/users?limit=0')).toMatchObject(fieldError('limit'));
    expect(await call('GET', '/users?limit=501')).toMatchObject(fieldError('limit'));
    expect(await call('GET', '/users?cursor=not-a-cursor')).toMatchObject(fieldError('cursor'));
    expect(await call('GET', `/users?query=${'q'.repeat(300)}`)).toMatchObject(fieldError('query'));
  });
}

/** Users: PATCH role and status, a disabled user refused, revoke-sessions, DELETE. */
function userWriteCases(suite: AdminSuite): void {
  const { setup } = suite;
  it('PATCH /users/:id: role and status; role null hands it back to the default; 404; 422 names the field, nothing changes', async () => {
    const { call, person } = await setup();
    const { user } = await person('patch');
    const patch = (body: unknown, id = user.id) => call('PATCH', `/users/${id}`, body);
    expect(await patch({ role: 'editor' })).toMatchObject({
      status: 200,
      body: { id: user.id, role: 'editor' },
    });
    expect(await patch({ role: null })).toMatchObject({
      status: 200,
      body: { role: 'user', status: 'active' },
    });
    const disabled = await patch({ status: 'disabled', role: 'viewer' });
    expect(disabled).toMatchObject({ status: 200, body: { role: 'viewer', status: 'disabled' } });
    expect((disabled.body as { disabledAt: unknown }).disabledAt).toEqual(expect.any(String));
    expect(await patch({ status: 'active' })).toMatchObject({
      status: 200,
      body: { status: 'active', disabledAt: null },
    });
    expect(await patch({})).toMatchObject({ status: 200, body: { id: user.id, role: 'viewer' } });
    expect(await patch({ role: 'admin' }, 'no-such-user')).toMatchObject({
      status: 404,
      body: { error: 'user_not_found' },
    });
    expect(await patch({ role: 'no spaces' })).toMatchObject(fieldError('role'));
    expect(await patch({ role: 7 })).toMatchObject(fieldError('role'));
    expect(await patch({ status: 'banned' })).toMatchObject(fieldError('status'));
    expect(await patch({ role: 'admin', email: 'x@example.com' })).toMatchObject(fieldError('email'));
    expect(await patch([1])).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect((await call('GET', `/users/${user.id}`)).body).toMatchObject({
      role: 'viewer',
      status: 'active',
    });
  });

  it('a user disabled by PATCH is refused on their next call (403 user_disabled); revoke-sessions makes their token 401', async () => {
    const { call, person } = await setup();
    const other = await person('other-admin', 'admin');
    const token = await other.token();
    expect((await call('GET', '/invitations', undefined, token)).status).toBe(200);
    expect(await call('PATCH', `/users/${other.user.id}`, { status: 'disabled' })).toMatchObject({
      status: 200,
      body: { status: 'disabled' },
    });
    expect(await call('GET', '/invitations', undefined, token)).toMatchObject({
      status: 403,
      body: { error: 'user_disabled' },
    });
    expect((await call('PATCH', `/users/${other.user.id}`, { status: 'active' })).status).toBe(200);
    expect((await call('GET', '/invitations', undefined, token)).status).toBe(200);
    const revoked = await call('POST', `/users/${other.user.id}/revoke-sessions`);
    expect(revoked).toMatchObject({ status: 200, body: { id: other.user.id, status: 'active' } });
    expect((revoked.body as { tokensValidAfter: unknown }).tokensValidAfter).toEqual(expect.any(String));
    expect(await call('GET', '/invitations', undefined, token)).toMatchObject({
      status: 401,
      body: { error: 'invalid_token' },
    });
    expect(await call('POST', '/users/no-such-user/revoke-sessions')).toMatchObject({
      status: 404,
      body: { error: 'user_not_found' },
    });
  });

  it('DELETE /users/:id: 204, then 404 for it', async () => {
    const { call, person } = await setup();
    const { user } = await person('gone');
    const deleted = await call('DELETE', `/users/${user.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expect(await call('GET', `/users/${user.id}`)).toMatchObject({
      status: 404,
      body: { error: 'user_not_found' },
    });
    expect(await call('DELETE', `/users/${user.id}`)).toMatchObject({
      status: 404,
      body: { error: 'user_not_found' },
    });
  });
}

/** The last active admin cannot be removed, even under a race; every change names its acting admin. */
function lastAdminCases(suite: AdminSuite): void {
  const { setup, eventsOf } = suite;
  it('last_admin: the only active admin cannot demote, disable or delete themselves (409, nothing changes); with a second admin they can', async () => {
    const { call, admin, provisioner, person } = await setup();
    await onlyAdmin(provisioner, admin.id);
    for (const body of [
      { role: 'user' },
      { role: null },
      { status: 'disabled' },
      { role: 'admin', status: 'disabled' },
    ]) {
      expect(await call('PATCH', `/users/${admin.id}`, body), JSON.stringify(body)).toMatchObject({
        status: 409,
        body: { error: 'last_admin' },
      });
    }
    expect(await call('DELETE', `/users/${admin.id}`)).toMatchObject({
      status: 409,
      body: { error: 'last_admin' },
    });
    expect((await call('GET', `/users/${admin.id}`)).body).toMatchObject({
      role: 'admin',
      status: 'active',
    });
    expect(await call('PATCH', `/users/${admin.id}`, { role: 'admin', status: 'active' })).toMatchObject({
      status: 200,
    });
    const second = await person('second', 'admin');
    expect(await call('PATCH', `/users/${admin.id}`, { role: 'user' })).toMatchObject({
      status: 200,
      body: { role: 'user' },
    });
    // The former admin is no admin now; the second one is the last.
    expect((await call('GET', '/users')).status).toBe(403);
    expect(await call('DELETE', `/users/${second.user.id}`, undefined, await second.token())).toMatchObject({
      status: 409,
      body: { error: 'last_admin' },
    });
  });

  it('last_admin under a race: admins demoting and disabling each other all at once leave one active admin', async () => {
    const { call, admin, provisioner, person } = await setup();
    await onlyAdmin(provisioner, admin.id);
    const others = await Promise.all([
      person('race1', 'admin'),
      person('race2', 'admin'),
      person('race3', 'admin'),
    ]);
    const all = [
      { id: admin.id, token: (await suite.idp.mint({ sub: admin.subject }, { audience: AUD })) as string },
      ...(await Promise.all(others.map(async (o) => ({ id: o.user.id, token: await o.token() })))),
    ];
    // Every admin acts on every other one, demoting or disabling; all requests are in flight together.
    const answers = await Promise.all(
      all.flatMap((actor, i) =>
        all
          .filter((target) => target.id !== actor.id)
          .map((target, j) =>
            call(
              'PATCH',
              `/users/${target.id}`,
              (i + j) % 2 === 0 ? { role: 'user' } : { status: 'disabled' },
              actor.token,
            ),
          ),
      ),
    );
    // A caller already demoted or disabled when its request arrives gets 403; a change that would take
    // the last admin away gets 409; everything else passes.
    for (const answer of answers) {
      expect([200, 403, 409]).toContain(answer.status);
      if (answer.status === 409) expect(answer.body).toMatchObject({ error: 'last_admin' });
    }
    const { users } = await provisioner.listUsers({ role: 'admin', status: 'active', limit: 500 });
    expect(users.length).toBeGreaterThanOrEqual(1);
  });

  it("every change is an event whose actor is the calling admin's user id", async () => {
    const { call, admin, tag } = await setup();
    const created = await call('POST', '/users', {
      issuer: 'https://idp.example.com',
      subject: `ev-${tag}`,
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    expect((await call('PATCH', `/users/${id}`, { role: 'editor' })).status).toBe(200);
    expect((await call('PATCH', `/users/${id}`, { status: 'disabled' })).status).toBe(200);
    expect((await call('PATCH', `/users/${id}`, { status: 'active' })).status).toBe(200);
    expect((await call('POST', `/users/${id}/revoke-sessions`)).status).toBe(200);
    expect((await call('DELETE', `/users/${id}`)).status).toBe(204);
    const events = await eventsOf(id, [
      'user.provisioned',
      'user.role_changed',
      'user.disabled',
      'user.enabled',
      'user.sessions_revoked',
      'user.deleted',
    ]);
    for (const event of events) expect(event, event.type).toMatchObject({ userId: id, actor: admin.id });
    expect(events.find((e) => e.type === 'user.role_changed')?.data).toMatchObject({
      from: 'user',
      to: 'editor',
    });
  });
}

/** Invitations: create, list, 413 over the body limit, revoke soft and hard, purge. */
function invitationCases(suite: AdminSuite): void {
  const { setup } = suite;
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
    // `olderThanMs: 0` purges what was revoked before now: on a fast machine the revoke and the purge can fall
    // in the same millisecond, so wait until the clock has moved past the revoke (a few ms at most).
    const revokedAt = all[0]?.revokedAt?.getTime() ?? 0;
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(revokedAt + 1), {
      timeout: 5_000,
      interval: 1,
    });
    const purged = await call('POST', '/invitations/purge', { olderThanMs: 0 });
    expect(purged.status).toBe(200);
    expect((purged.body as { purged: number }).purged).toBeGreaterThanOrEqual(1);
    expect((await invitations.list()).map((i) => i.id)).not.toContain(a.invitation.id);
    expect(await call('POST', '/invitations/purge', { olderThanMs: -1 })).toMatchObject(
      fieldError('olderThanMs'),
    );
  });
}

/** Bulk invitations: a job polled until done, skips and failed deliveries reported. */
function bulkCases(suite: AdminSuite): void {
  const { setup } = suite;
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
    expect(await call('POST', '/invitations/bulk', { emails: tooMany })).toMatchObject(fieldError('emails'));
    expect(await call('POST', '/invitations/bulk', { emails: [] })).toMatchObject(fieldError('emails'));
    expect(await call('POST', '/invitations/bulk', { emails: email('ok') })).toMatchObject(
      fieldError('emails'),
    );
    expect(await call('POST', '/invitations/bulk', { emails: [email('ok')], role: '' })).toMatchObject(
      fieldError('role'),
    );
  });

  it('bulk: a bad entry is its own failed result with the error code, the rest go out (one rule with createMany and the CLI)', async () => {
    const { call, email, sent } = await setup();
    const emails = [
      email('good1'),
      'not-an-address',
      { email: email('badrole'), role: 'no spaces' },
      7,
      { email: email('good2'), role: 'editor' },
      { name: 'no email' },
      null,
    ];
    const started = await call('POST', '/invitations/bulk', { emails });
    expect(started.status).toBe(202);
    const progress = await jobDone(call, (started.body as { job: string }).job);
    expect(progress).toMatchObject({ total: 7, done: 7, sent: 2, skipped: 0, failed: 5 });
    const invalid = (shown: string) => ({ email: shown, status: 'failed', error: 'invalid_request' });
    expect(progress.results).toEqual([
      { email: email('good1'), status: 'sent', invitationId: expect.any(String) },
      invalid('not-an-address'),
      invalid(email('badrole')),
      invalid(''),
      { email: email('good2'), status: 'sent', invitationId: expect.any(String) },
      invalid(''),
      invalid(''),
    ]);
    expect(sent.map((m) => m.email).sort()).toEqual([email('good1'), email('good2')].sort());
  });

  it('bulk: a delivery that fails is reported per email, the rest go out', async () => {
    const tag = randomBytes(4).toString('hex');
    const failing = `x-${tag}@example.com`;
    const { call, sent } = await setup({}, { failFor: failing });
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
}

/** Bulk bounds: `maxJobs` under racing starts; `perSecond` one ceiling for every job of an `adminApi`. */
function bulkBoundCases(suite: AdminSuite): void {
  const { setup } = suite;
  it('bulk: maxJobs holds when starts race: of 6 jobs started at once with maxJobs 2, two get 202 and four 429', async () => {
    const { call, email, release } = await setup({ bulk: { maxJobs: 2 } }, { holdSends: true });
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => call('POST', '/invitations/bulk', { emails: [email(`jobs${i}`)] })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 429, 429, 429, 429]);
    for (const answer of answers.filter((a) => a.status === 429))
      expect(answer.body).toMatchObject({ error: 'rate_limited' });
    release();
    for (const answer of answers.filter((a) => a.status === 202))
      expect(await jobDone(call, (answer.body as { job: string }).job)).toMatchObject({ total: 1, sent: 1 });
    // Finished jobs make room again.
    expect((await call('POST', '/invitations/bulk', { emails: [email('jobs-after')] })).status).toBe(202);
  });

  it('bulk: perSecond bounds all jobs together: the n-th delivery never comes before burst + perSecond × elapsed allows', async () => {
    const perSecond = 5; // the bucket holds perSecond tokens to begin with
    const since = Date.now();
    const { call, email, sendTimes } = await setup({ bulk: { perSecond, maxJobs: 10 } });
    const answers = await Promise.all(
      [0, 1, 2].map((j) =>
        call('POST', '/invitations/bulk', { emails: [0, 1, 2, 3].map((i) => email(`rate${j}-${i}`)) }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(await jobDone(call, (answer.body as { job: string }).job)).toMatchObject({ sent: 4 });
    }
    // An upper bound only (a slow machine just sends later), measured from before the API existed.
    const times = [...sendTimes].sort((a, b) => a - b);
    expect(times).toHaveLength(12);
    times.forEach((at, i) => {
      const allowed = perSecond + (perSecond * (at - since)) / 1000;
      expect(i + 1, `delivery ${i + 1} after ${at - since} ms`).toBeLessThanOrEqual(allowed + 1e-9);
    });
  });
}

/** Who may give which role (`assignableRoles`), and an admin demoted while their change waits. */
function roleGrantCases(suite: AdminSuite): void {
  const { setup } = suite;
  it('by default someone authorize lets in who is no admin may give no role, not even to themselves: 403 forbidden, nothing changes', async () => {
    const { call, userToken, person, email, invitations, provisioner, tag } = await setup({
      authorize: (auth) => auth.user.subject.startsWith('user-'),
    });
    const as = (method: AdminTestRequest['method'], path: string, body?: unknown) =>
      call(method, path, body, userToken);
    const target = await person('grant-target');
    expect(await as('PATCH', `/users/${target.user.id}`, { role: 'editor' })).toMatchObject(forbidden);
    const self = await provisioner.getUser({ issuer: suite.idp.issuer, subject: `user-${tag}` });
    expect(self).not.toBeNull();
    expect(await as('PATCH', `/users/${self?.id}`, { role: 'admin' })).toMatchObject(forbidden);
    const identity = { issuer: 'https://idp.example.com', subject: `grant-${tag}` };
    expect(await as('POST', '/users', { ...identity, role: 'admin' })).toMatchObject(forbidden);
    expect(await as('POST', '/invitations', { email: email('grant1'), role: 'admin' })).toMatchObject(
      forbidden,
    );
    expect(
      await as('POST', '/invitations/bulk', {
        emails: [email('grant2'), { email: email('grant3'), role: 'admin' }],
      }),
    ).toMatchObject(forbidden);
    expect(
      await as('POST', '/invitations/bulk', { emails: [email('grant4')], role: 'editor' }),
    ).toMatchObject(forbidden);
    expect((await provisioner.getUser(target.user.id))?.role).toBe('user');
    expect((await provisioner.getUser(self?.id as string))?.role).toBe('user');
    expect(await provisioner.getUser(identity)).toBeNull();
    expect(
      (await invitations.list()).filter((i) => i.email.startsWith('grant') && i.email.includes(tag)),
    ).toEqual([]);
    // Naming no role gives the default, as signing up would: that is allowed.
    expect((await as('POST', '/invitations', { email: email('grant5') })).status).toBe(201);
    expect((await as('POST', '/users', identity)).status).toBe(201);
  });

  it('assignableRoles bounds what even an admin may give (it may be async): listed roles pass, others 403 forbidden', async () => {
    const { call, person, email, invitations, provisioner, tag } = await setup({
      assignableRoles: async ({ user }) => (user.subject.startsWith('admin-') ? ['user', 'editor'] : []),
    });
    const target = await person('bounded');
    expect(await call('PATCH', `/users/${target.user.id}`, { role: 'editor' })).toMatchObject({
      status: 200,
      body: { role: 'editor' },
    });
    expect(await call('PATCH', `/users/${target.user.id}`, { role: 'admin' })).toMatchObject(forbidden);
    expect(
      await call('PATCH', `/users/${target.user.id}`, { role: 'admin', status: 'disabled' }),
    ).toMatchObject(forbidden);
    expect(await provisioner.getUser(target.user.id)).toMatchObject({ role: 'editor', status: 'active' });
    const identity = { issuer: 'https://idp.example.com', subject: `bounded-${tag}` };
    expect(await call('POST', '/users', { ...identity, role: 'admin' })).toMatchObject(forbidden);
    expect(await call('POST', '/users', { ...identity, role: 'editor' })).toMatchObject({ status: 201 });
    expect(await call('POST', '/invitations', { email: email('b1'), role: 'admin' })).toMatchObject(
      forbidden,
    );
    expect((await call('POST', '/invitations', { email: email('b1'), role: 'editor' })).status).toBe(201);
    const mixed = {
      emails: [
        { email: email('b2'), role: 'editor' },
        { email: email('b3'), role: 'admin' },
      ],
    };
    expect(await call('POST', '/invitations/bulk', mixed)).toMatchObject(forbidden);
    expect((await invitations.list()).map((i) => i.email)).not.toContain(email('b2'));
    const fine = await call('POST', '/invitations/bulk', { emails: [email('b4')], role: 'editor' });
    expect(fine.status).toBe(202);
    expect(await jobDone(call, (fine.body as { job: string }).job)).toMatchObject({ sent: 1 });
  });

  it('an admin demoted or disabled while their change waits is refused: A acts on B while B deletes A, never both land', async () => {
    const { call, person } = await setup();
    for (let round = 0; round < 6; round++) {
      const [a, b] = await Promise.all([person(`dem-a${round}`, 'admin'), person(`dem-b${round}`, 'admin')]);
      const [ta, tb] = await Promise.all([a.token(), b.token()]);
      // Both tokens verified once, so both requests pass authentication at once and wait in the change queue.
      expect((await call('GET', `/users/${a.user.id}`, undefined, ta)).status).toBe(200);
      expect((await call('GET', `/users/${b.user.id}`, undefined, tb)).status).toBe(200);
      const change = round % 2 === 0 ? { role: 'user' } : { status: 'disabled' };
      const [demote, remove] = await Promise.all([
        call('PATCH', `/users/${b.user.id}`, change, ta),
        call('DELETE', `/users/${a.user.id}`, undefined, tb),
      ]);
      const landed = (demote.status === 200 ? 1 : 0) + (remove.status === 204 ? 1 : 0);
      expect(landed, `round ${round}: PATCH ${demote.status}, DELETE ${remove.status}`).toBe(1);
      const loser = demote.status === 200 ? remove : demote;
      expect(loser.status).toBe(403);
      expect(['forbidden', 'user_disabled']).toContain((loser.body as { error: string }).error);
    }
  });
}

/** The public peek's rate limit: per client (IPv6 by network, mapped IPv4 unmapped), then for all. */
function peekLimitCases(suite: AdminSuite): void {
  const { setup } = suite;
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

  it('peek: the addresses of one IPv6 /64 share one bucket; an IPv4-mapped address is its IPv4 client', async () => {
    const { call } = await setup({ peekRateLimit: { burst: 3, perSecond: 0.001 } });
    const token = randomBytes(32).toString('base64url');
    const peek = (ip: string) => call('GET', `/invitations/peek?token=${token}`, undefined, null, { ip });
    for (const ip of ['2001:db8:5:6::1', '2001:db8:5:6::2', '2001:db8:5:6:ffff:1:2:3'])
      expect((await peek(ip)).status, ip).toBe(404);
    expect(await peek('2001:db8:5:6:abcd::99')).toMatchObject({
      status: 429,
      body: { error: 'rate_limited' },
    });
    expect((await peek('2001:db8:5:7::1')).status).toBe(404);
    for (const ip of ['198.51.100.20', '::ffff:198.51.100.20', '198.51.100.20'])
      expect((await peek(ip)).status, ip).toBe(404);
    expect((await peek('::ffff:198.51.100.20')).status).toBe(429);
  });

  it('peek: one global bucket behind the per-client ones stops a flood from many addresses', async () => {
    const { call } = await setup({
      peekRateLimit: { burst: 2, perSecond: 0.001, global: { burst: 5, perSecond: 0.001 } },
    });
    const token = randomBytes(32).toString('base64url');
    const statuses: number[] = [];
    for (let i = 1; i <= 12; i++)
      statuses.push(
        (await call('GET', `/invitations/peek?token=${token}`, undefined, null, { ip: `192.0.2.${i}` }))
          .status,
      );
    expect(statuses).toEqual([...Array(5).fill(404), ...Array(7).fill(429)]);
  });
}

/** The public peek; the outbox list and retry. */
function peekAndOutboxCases(suite: AdminSuite): void {
  const { setup } = suite;
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

  it('outbox: GET /outbox lists events by status; retry makes a failed one pending again; 404 for unknown', async (context) => {
    // No event hooks: no dispatcher delivers the event before the case claims it.
    const { call, store, provisioner, tag } = await setup({}, { events: false });
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
}

/**
 * The admin API matrix every adapter runs over its real framework, with real JWTs from a local issuer: 401
 * (no or bad token, a cookie is not a credential) and 403 `forbidden` on every admin route; users (get, create,
 * 409 on an existing identity); invitations (create, list without any token or hash, revoke soft and hard,
 * purge); bulk invitations (202, progress polled until done, repeats and already-pending emails skipped,
 * a failed delivery and bad entries reported per email, `maxJobs` held by racing starts, `perSecond` one
 * ceiling for all jobs); `assignableRoles` (403 `forbidden` for a role the caller may not give, even to
 * themselves) and an admin demoted while their change waits in the queue (403, never both changes); outbox
 * list and retry; 422 naming the field; 413 over the body limit; the public `peek` (one 404 for unknown,
 * consumed, revoked and expired tokens) and its rate limit (429 with `Retry-After`; one bucket per IPv6 /64,
 * IPv4-mapped addresses unmapped, a global bucket behind). Bodies are asserted exactly, so every adapter that
 * passes answers alike. `mount` must pass `ip` through as the client address, IPv6 included.
 *
 * @example
 * ```ts
 * import { runAdminApiSuite } from '@jit-provision/testing';
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
    const state = { options, apps: [] as AdminTestApp[], userEvents: [] as UserEvent[] };
    const idp = suiteIssuer('admin API suite', state.apps);
    const suite: AdminSuite = {
      get idp() {
        return idp();
      },
      setup: (overrides, behaviour) => setupCase({ ...state, idp: idp() }, overrides, behaviour),
      eventsOf: (userId, types) => eventsOf(state.userEvents, userId, types),
    };
    authorizationCases(suite);
    clientCases(suite);
    userReadCases(suite);
    userWriteCases(suite);
    lastAdminCases(suite);
    invitationCases(suite);
    bulkCases(suite);
    bulkBoundCases(suite);
    roleGrantCases(suite);
    peekAndOutboxCases(suite);
    peekLimitCases(suite);
  });
}
