import type { Store } from '@jit-provision/core';
import { createInvitationService, createProvisioner, MissingTokenError } from '@jit-provision/core';
import { MAX_BODY_DEPTH, type Route, type RouteMethod } from '@jit-provision/core/adapter';
import { adminApi } from '@jit-provision/core/admin';
import { describe, expect, it } from 'vitest';
import { suiteIssuer } from './issuers';

/** What a mounted route table answered; header names lower-case, `body` parsed as JSON (undefined when empty). */
export interface RouteTestResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * One request through the real framework. `body` is sent as is; without `headers` it goes with
 * `content-type: application/json`, with `headers` exactly those (the client may add its own default type).
 */
export type RouteTestSend = (
  method: RouteMethod,
  path: string,
  body?: string,
  headers?: Record<string, string>,
) => Promise<RouteTestResponse>;

/** Options of {@link runRouteTableSuite}. */
export interface RouteTableSuiteOptions {
  /** Shown in the suite title. */
  name: string;
  /** A fresh, real store (e.g. the memory store): the suite mounts the real admin API over it too. */
  createStore: () => Store | Promise<Store>;
  /** Mount `routes` with the adapter's generic mounter under `/t` and return a sender through the real framework. */
  mount(routes: readonly Route[]): RouteTestSend;
}

/** `{"a":{"a":…}}` nested `depth` deep, as text: building it as an object would overflow JSON.stringify. */
export const deepJson = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const serverError = {
  status: 500,
  body: { error: 'server_error', error_description: 'Internal server error' },
};
const error = (status: number, code: string) => ({ status, body: { error: code } });

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A route with `bodyType: 'form'`: read as a form, bounded, and only a UTF-8 form is taken. */
function formCases(options: RouteTableSuiteOptions): void {
  const send = options.mount([
    {
      method: 'POST',
      path: '/form',
      bodyType: 'form',
      maxBodyBytes: 16_384,
      handler: async (request) => ({
        status: 200,
        body: { fields: request.body ?? null, own: Object.getPrototypeOf(request.body ?? {}) === null },
      }),
    },
  ]);

  it("a bodyType: 'form' route reads a UTF-8 form (a repeated field: a list; no prototype), refuses JSON and other types with 415", async () => {
    const taken = await send('POST', '/t/form', 'a=1&b=x%20y&a=2&__proto__=p', FORM);
    expect(taken).toMatchObject({
      status: 200,
      body: { fields: { a: ['1', '2'], b: 'x y', __proto__: 'p' }, own: true },
    });
    expect(({} as Record<string, unknown>)['p']).toBeUndefined();
    const utf8 = await send('POST', '/t/form', 'a=%C3%A9', {
      'content-type': `${FORM['content-type']}; charset=utf-8`,
    });
    expect(utf8).toMatchObject({ status: 200, body: { fields: { a: 'é' } } });
    for (const type of ['application/json', 'text/plain', `${FORM['content-type']}; charset=latin1`]) {
      const refused = await send('POST', '/t/form', 'a=1', { 'content-type': type });
      expect(refused, type).toMatchObject(error(415, 'unsupported_media_type'));
    }
    expect(await send('POST', '/t/form', undefined, {})).toMatchObject({
      status: 200,
      body: { fields: null },
    });
  });

  it('a form over its maxBodyBytes → 413 payload_too_large (a 1 MB body)', async () => {
    const big = `a=${'x'.repeat(1_048_576)}`;
    expect(await send('POST', '/t/form', big, FORM)).toMatchObject(error(413, 'payload_too_large'));
  });
}

/** A throwing handler, an unserialisable answer, a body too deep or too big in values. */
function failureCases(options: RouteTableSuiteOptions): void {
  let calls = 0;
  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;
  const routes: Route[] = [
    { method: 'GET', path: '/ok', handler: async () => ({ status: 200, body: { ok: true } }) },
    {
      method: 'GET',
      path: '/throws',
      handler: async () => {
        throw new Error('handler bug with a secret-ish detail');
      },
    },
    { method: 'GET', path: '/bigint', handler: async () => ({ status: 200, body: { n: 1n } }) },
    { method: 'GET', path: '/cycle', handler: async () => ({ status: 200, body: cyclic }) },
    {
      method: 'POST',
      path: '/echo',
      maxBodyNodes: 100,
      handler: async (request) => {
        calls += 1;
        return { status: 200, body: request.body ?? null };
      },
    },
  ];
  const send = options.mount(routes);

  it('a throwing handler or an unserialisable answer → 500 server_error, and the app keeps answering', async () => {
    expect(await send('GET', '/t/throws')).toMatchObject(serverError);
    expect(await send('GET', '/t/bigint')).toMatchObject(serverError);
    expect(await send('GET', '/t/cycle')).toMatchObject(serverError);
    expect(await send('GET', '/t/ok')).toMatchObject({ status: 200, body: { ok: true } });
  });

  it(`a body nested deeper than ${MAX_BODY_DEPTH} → 400, holding more values than maxBodyNodes → 413; neither reaches the handler`, async () => {
    const before = calls;
    for (const depth of [MAX_BODY_DEPTH + 1, 6_000])
      expect(await send('POST', '/t/echo', deepJson(depth))).toMatchObject(error(400, 'invalid_request'));
    expect(await send('POST', '/t/echo', JSON.stringify(Array(100).fill(0)))).toMatchObject(
      error(413, 'payload_too_large'),
    );
    expect(calls).toBe(before);
    expect((await send('POST', '/t/echo', deepJson(MAX_BODY_DEPTH))).status).toBe(200);
    expect((await send('POST', '/t/echo', JSON.stringify(Array(99).fill(0)))).status).toBe(200);
    expect(calls).toBe(before + 2);
  });

  it('one media-type rule: application/json or +json in UTF-8, else 415 unsupported_media_type; a body-less POST needs none', async () => {
    const before = calls;
    for (const type of [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
    ]) {
      const refused = await send('POST', '/t/echo', '{"a":1}', { 'content-type': type });
      expect(refused, type).toMatchObject(error(415, 'unsupported_media_type'));
    }
    // No type at all: whatever default the client adds (none, text/plain, a form) is not JSON.
    expect(await send('POST', '/t/echo', '{"a":1}', {})).toMatchObject(error(415, 'unsupported_media_type'));
    expect(calls).toBe(before);
    for (const type of ['application/json; charset=UTF-8', 'application/scim+json']) {
      const taken = await send('POST', '/t/echo', '{"a":1}', { 'content-type': type });
      expect(taken, type).toMatchObject({ status: 200, body: { a: 1 } });
    }
    expect(await send('POST', '/t/echo', undefined, {})).toMatchObject({ status: 200, body: null });
  });

  it('a request under the table that matches no route → 404 not_found in the one error shape', async () => {
    for (const [method, path] of [
      ['GET', '/t/nope'],
      ['POST', '/t/ok'],
      ['DELETE', '/t/echo'],
      ['GET', '/t/ok/more'],
    ] as const) {
      const res = await send(method, path);
      expect(res, `${method} ${path}`).toMatchObject(error(404, 'not_found'));
      expect(res.headers['content-type'], `${method} ${path}`).toMatch(/^application\/json/);
    }
  });
}

/** A route's `authenticate` step: run before the body is read, its result handed to the handler. */
function authenticateCases(options: RouteTableSuiteOptions): void {
  let steps = 0;
  let handled = 0;
  const routes: Route[] = [
    {
      method: 'POST',
      path: '/guarded',
      maxBodyBytes: 64,
      headers: { 'cache-control': 'no-store' },
      authenticate: async ({ headers }) => {
        steps += 1;
        const caller =
          (headers as Headers).get?.('x-caller') ?? (headers as Record<string, unknown>)['x-caller'];
        if (caller !== 'ok') throw new MissingTokenError();
        return { caller };
      },
      handler: async (request) => {
        handled += 1;
        return { status: 200, body: { auth: request.auth, body: request.body ?? null } };
      },
    },
  ];
  const send = options.mount(routes);
  const caller = { 'content-type': 'application/json', 'x-caller': 'ok' };

  it('authenticate runs before the body is read: a refused caller gets 401 whatever the body (too big, not JSON, wrong type)', async () => {
    const bodies: Array<[string, Record<string, string>]> = [
      [JSON.stringify({ pad: 'x'.repeat(256 * 1024) }), { 'content-type': 'application/json' }],
      ['{', { 'content-type': 'application/json' }],
      [deepJson(6_000), { 'content-type': 'application/json' }],
      ['a=1', { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [body, headers] of bodies) {
      const res = await send('POST', '/t/guarded', body, headers);
      // 413, 400 or 415 here would mean the body was read, parsed or judged before the caller was.
      expect(res).toMatchObject(error(401, 'missing_token'));
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.headers['cache-control']).toBe('no-store');
    }
    expect(steps).toBe(bodies.length);
    expect(handled).toBe(0);
  });

  it("the step's result reaches the handler; an admitted caller still gets 413 over the route's limit and 415", async () => {
    expect(await send('POST', '/t/guarded', '{"n":1}', caller)).toMatchObject({
      status: 200,
      body: { auth: { caller: 'ok' }, body: { n: 1 } },
    });
    const big = await send('POST', '/t/guarded', JSON.stringify({ pad: 'x'.repeat(100) }), caller);
    expect(big).toMatchObject(error(413, 'payload_too_large'));
    expect(big.headers['cache-control']).toBe('no-store');
    expect(
      await send('POST', '/t/guarded', '{}', { 'content-type': 'text/plain', 'x-caller': 'ok' }),
    ).toMatchObject(error(415, 'unsupported_media_type'));
    expect(handled).toBe(1);
  });
}

/** The real admin API: its guard runs before the body, and its small limits hold for an admin. */
function adminBodyCases(options: RouteTableSuiteOptions): void {
  const apps: Array<{ close?(): void }> = [];
  const issuer = suiteIssuer('route table suite', apps);
  const AUD = 'route-table-admin';
  const setup = async () => {
    const store = await options.createStore();
    const provisioner = createProvisioner({
      store,
      issuers: [{ issuer: issuer().issuer, audience: AUD }],
      logger: { warn: () => {}, error: () => {} },
    });
    const invitations = createInvitationService({ store, secret: 'a-32-byte-secret-for-invitations!' });
    const send = options.mount(adminApi({ provisioner, invitations, maxBulk: 10 }).routes);
    const sub = `admin-${Math.random().toString(36).slice(2, 10)}`;
    await provisioner.preProvision({ issuer: issuer().issuer, subject: sub, role: 'admin' });
    const token = await issuer().mint({ sub }, { audience: AUD });
    return { send, token, invitations };
  };

  it('admin API: a well-formed but unverifiable bearer with a huge body → 401 invalid_token, not 413 or 400', async () => {
    const { send } = await setup();
    const headers = { authorization: 'Bearer x.y.z', 'content-type': 'application/json' };
    const huge = JSON.stringify({ emails: Array(40_000).fill('someone@example.com') });
    for (const [method, path, body] of [
      ['POST', '/t/invitations/bulk', huge],
      ['PATCH', '/t/users/some-id', huge],
      ['POST', '/t/invitations', '{'],
      ['DELETE', '/t/invitations/some-id', huge],
    ] as const) {
      const res = await send(method, path, body, headers);
      expect(res, `${method} ${path}`).toMatchObject(error(401, 'invalid_token'));
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('admin API: an admin gets 413 over a route’s small limit (bulk scales with maxBulk) and 415 for a form', async () => {
    const { send, token, invitations } = await setup();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const padded = JSON.stringify({ email: 'pad@example.com', pad: 'x'.repeat(20_000) });
    expect(await send('POST', '/t/invitations', padded, headers)).toMatchObject(
      error(413, 'payload_too_large'),
    );
    // maxBulk 10: 16 KiB + 10 KiB; 30 KiB of emails is over it.
    const bulk = JSON.stringify({ emails: Array(1_500).fill('someone@example.com') });
    expect(await send('POST', '/t/invitations/bulk', bulk, headers)).toMatchObject(
      error(413, 'payload_too_large'),
    );
    const form = { ...headers, 'content-type': 'application/x-www-form-urlencoded' };
    expect(await send('POST', '/t/invitations', 'email=a%40example.com', form)).toMatchObject(
      error(415, 'unsupported_media_type'),
    );
    expect(await invitations.list()).toEqual([]);
    const ok = await send('POST', '/t/invitations', JSON.stringify({ email: 'ok@example.com' }), headers);
    expect(ok.status).toBe(201);
  });
}

/**
 * The behaviour every adapter's route mounter must share: a handler that throws or answers a body that
 * cannot be serialised gets the one error shape's 500 and the process stays up; a body nested deeper than
 * `MAX_BODY_DEPTH` (400) or holding more values than `maxBodyNodes` (413) never reaches the handler; one
 * media-type rule (JSON in UTF-8, else 415); 404 `not_found` for what matches no route; a route's
 * `authenticate` step runs before the body is read (a refused caller gets 401 whatever body it sends) and its
 * result reaches the handler; and the real admin API refuses an unverifiable bearer before its body, and
 * holds its small body limits for an admin.
 *
 * @example
 * ```ts
 * runRouteTableSuite({
 *   name: 'hono',
 *   createStore: createMemoryStore,
 *   mount: (routes) => {
 *     const app = new Hono().route('/t', subApp(routes));
 *     return async (method, path, body, headers) => {
 *       const init = body === undefined ? {} : { body, headers: headers ?? { 'content-type': 'application/json' } };
 *       const res = await app.request(path, { method, ...init, ...(headers && { headers }) });
 *       const text = await res.text();
 *       return { status: res.status, headers: Object.fromEntries(res.headers), body: text === '' ? undefined : JSON.parse(text) };
 *     };
 *   },
 * });
 * ```
 */
export function runRouteTableSuite(options: RouteTableSuiteOptions): void {
  describe(`route table: ${options.name}`, () => {
    failureCases(options);
    formCases(options);
    authenticateCases(options);
    adminBodyCases(options);
  });
}
