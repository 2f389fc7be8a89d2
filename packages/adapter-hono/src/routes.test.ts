import { InvalidApiKeyError } from '@jit-provision/core';
import type { Route } from '@jit-provision/core/adapter';
import { createMemoryStore } from '@jit-provision/store-memory';
import {
  type RouteTableSuiteOptions,
  runBackchannelLogoutSuite,
  runRouteTableSuite,
} from '@jit-provision/testing';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { subApp } from './index';

// The generic mounter the admin API will use too: :params, query, bodies, empty answers, authorize first.
const routes: Route[] = [
  {
    method: 'GET',
    path: '/items/:id',
    handler: async (r) => ({ status: 200, body: { params: r.params, query: r.query } }),
  },
  {
    method: 'POST',
    path: '/items',
    handler: async (r) => ({ status: 201, headers: { 'x-made': '1' }, body: r.body }),
  },
  { method: 'DELETE', path: '/items/:id', handler: async () => ({ status: 204 }) },
  {
    method: 'PATCH',
    path: '/locked',
    authorize: (headers) => {
      if ((headers as Headers).get('x-key') !== 'k') throw new InvalidApiKeyError();
    },
    maxBodyBytes: 64,
    handler: async () => ({ status: 200, body: { ok: true } }),
  },
];

describe('hono subApp(routes)', () => {
  const app = new Hono().route('/api', subApp(routes));
  const json = { 'content-type': 'application/json' };

  it('passes :params and the query, sends the body and headers', async () => {
    const got = await app.request('/api/items/42?q=a&tag=x&tag=y');
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ params: { id: '42' }, query: { q: 'a', tag: ['x', 'y'] } });
    const made = await app.request('/api/items', { method: 'POST', headers: json, body: '{"name":"n"}' });
    expect(made.status).toBe(201);
    expect(made.headers.get('x-made')).toBe('1');
    expect(await made.json()).toEqual({ name: 'n' });
    expect((await app.request('/api/items/42', { method: 'DELETE' })).status).toBe(204);
  });

  it('authorizes before reading the body, and maps body errors to the one error shape', async () => {
    expect((await app.request('/api/locked', { method: 'PATCH', headers: json, body: '{}' })).status).toBe(
      401,
    );
    const headers = { ...json, 'x-key': 'k' };
    const big = await app.request('/api/locked', {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ pad: 'x'.repeat(100) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toBe('payload_too_large');
    const bad = await app.request('/api/locked', { method: 'PATCH', headers, body: '{' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_request');
  });
});

describe('hono subApp(routes): a refused caller', () => {
  it('never has a byte of its body pulled from the stream', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled += 1;
          controller.enqueue(new TextEncoder().encode('{"a":1}'));
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const guarded: Route = {
      method: 'PATCH',
      path: '/guarded',
      authenticate: async ({ headers }) => {
        if ((headers as Headers).get('x-key') !== 'k') throw new InvalidApiKeyError();
        return { key: 'k' };
      },
      handler: async (r) => ({ status: 200, body: { auth: r.auth, body: r.body } }),
    };
    const app = new Hono().route('/api', subApp([guarded]));
    const res = await app.request('/api/guarded', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(401);
    expect(pulled).toBe(0);
    const admitted = await app.request('/api/guarded', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'x-key': 'k' },
      body: new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            pulled += 1;
            controller.enqueue(new TextEncoder().encode('{"a":1}'));
            controller.close();
          },
        },
        { highWaterMark: 0 },
      ),
      duplex: 'half',
    } as RequestInit);
    expect(await admitted.json()).toEqual({ auth: { key: 'k' }, body: { a: 1 } });
    expect(pulled).toBe(1);
  });
});

describe('hono subApp(routes) at the root', () => {
  it('lets a request it has no route for go on to the app (under a prefix it answers 404 itself)', async () => {
    const app = new Hono().route('/', subApp(routes));
    app.get('/app-route', (c) => c.json({ app: true }));
    expect(await (await app.request('/app-route')).json()).toEqual({ app: true });
    expect((await app.request('/items/1')).status).toBe(200);
  });
});

const suite: RouteTableSuiteOptions = {
  name: 'hono',
  createStore: createMemoryStore,
  mount(table) {
    const app = new Hono().route('/t', subApp(table));
    return async (method, path, body, headers) => {
      const res = await app.request(path, {
        method,
        headers: headers ?? (body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(body === undefined ? {} : { body }),
      });
      const text = await res.text();
      return {
        status: res.status,
        headers: Object.fromEntries(res.headers),
        body: text === '' ? undefined : JSON.parse(text),
      };
    };
  },
};

runRouteTableSuite(suite);
// Back-channel logout over the same mounter: a form body, a public route, the sid refused afterwards.
runBackchannelLogoutSuite(suite);

describe('hono subApp(routes): the client address', () => {
  const echo: Route = {
    method: 'GET',
    path: '/ip',
    handler: async ({ ip }) => ({ status: 200, body: { ip: ip ?? null } }),
  };
  const ipOf = async (app: Hono, env?: unknown) =>
    ((await (await app.request('/t/ip', {}, env as never)).json()) as { ip: string | null }).ip;

  it("reads the app's getConnInfo when given one (hono/bun, hono/deno, ... helpers)", async () => {
    const app = new Hono().route(
      '/t',
      subApp([echo], { getConnInfo: () => ({ remote: { address: '192.0.2.7' } }) }),
    );
    expect(await ipOf(app)).toBe('192.0.2.7');
  });

  it("on Node: @hono/node-server's socket, never a header a client sends", async () => {
    const app = new Hono().route('/t', subApp([echo]));
    expect(await ipOf(app, { incoming: { socket: { remoteAddress: '198.51.100.4' } } })).toBe('198.51.100.4');
    const spoofed = await app.request('/t/ip', { headers: { 'cf-connecting-ip': '203.0.113.9' } });
    expect(await spoofed.json()).toEqual({ ip: null });
  });
});
