import { InvalidApiKeyError } from '@jit-provision/core';
import type { Route } from '@jit-provision/core/adapter';
import { createMemoryStore } from '@jit-provision/store-memory';
import {
  type RouteTableSuiteOptions,
  runBackchannelLogoutSuite,
  runRouteTableSuite,
} from '@jit-provision/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { routesPlugin } from './index';

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
      if ((headers as Record<string, unknown>)['x-key'] !== 'k') throw new InvalidApiKeyError();
    },
    maxBodyBytes: 64,
    handler: async () => ({ status: 200, body: { ok: true } }),
  },
];

describe('fastify routesPlugin(routes)', () => {
  const app = Fastify();
  app.register(routesPlugin(routes), { prefix: '/api' });
  afterAll(() => app.close());

  it('passes :params and the query, sends the body and headers', async () => {
    const got = await app.inject({ method: 'GET', url: '/api/items/42?q=a&tag=x&tag=y' });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual({ params: { id: '42' }, query: { q: 'a', tag: ['x', 'y'] } });
    const made = await app.inject({ method: 'POST', url: '/api/items', payload: { name: 'n' } });
    expect(made.statusCode).toBe(201);
    expect(made.headers['x-made']).toBe('1');
    expect(made.json()).toEqual({ name: 'n' });
    expect((await app.inject({ method: 'DELETE', url: '/api/items/42' })).statusCode).toBe(204);
  });

  it('authorizes before reading the body, and maps body errors to the one error shape', async () => {
    expect((await app.inject({ method: 'PATCH', url: '/api/locked', payload: {} })).statusCode).toBe(401);
    const headers = { 'x-key': 'k', 'content-type': 'application/json' };
    const big = await app.inject({
      method: 'PATCH',
      url: '/api/locked',
      headers,
      payload: { pad: 'x'.repeat(100) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toBe('payload_too_large');
    const bad = await app.inject({ method: 'PATCH', url: '/api/locked', headers, payload: '{' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('invalid_request');
  });
});

describe('fastify routesPlugin(routes) without a prefix', () => {
  it("leaves the app's 404 to the app", async () => {
    const app = Fastify();
    app.register(routesPlugin(routes));
    app.setNotFoundHandler((_request, reply) => reply.code(404).send({ app: true }));
    try {
      expect((await app.inject({ method: 'GET', url: '/nope' })).json()).toEqual({ app: true });
      expect((await app.inject({ method: 'GET', url: '/items/1' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

const mounted: FastifyInstance[] = [];
afterAll(() => Promise.all(mounted.map((app) => app.close())));

const suite: RouteTableSuiteOptions = {
  name: 'fastify',
  createStore: createMemoryStore,
  mount(table) {
    const app = Fastify();
    app.register(routesPlugin(table), { prefix: '/t' });
    mounted.push(app);
    return async (method, path, body, headers) => {
      const res = await app.inject({
        method,
        url: path,
        headers: headers ?? (body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(body === undefined ? {} : { payload: body }),
      });
      return {
        status: res.statusCode,
        headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
        body: res.body === '' ? undefined : JSON.parse(res.body),
      };
    };
  },
};

runRouteTableSuite(suite);
// Back-channel logout over the same mounter: a form body, a public route, the sid refused afterwards.
runBackchannelLogoutSuite(suite);
