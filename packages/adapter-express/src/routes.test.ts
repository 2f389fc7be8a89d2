import { InvalidApiKeyError } from '@jit-provision/core';
import type { Route } from '@jit-provision/core/adapter';
import { createMemoryStore } from '@jit-provision/store-memory';
import {
  type RouteTableSuiteOptions,
  runBackchannelLogoutSuite,
  runRouteTableSuite,
} from '@jit-provision/testing';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { router } from './index';

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

describe('express router(routes)', () => {
  const app = express().use('/api', router(routes));

  it('passes :params and the query, sends the body and headers', async () => {
    const got = await request(app).get('/api/items/42?q=a&tag=x&tag=y');
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ params: { id: '42' }, query: { q: 'a', tag: ['x', 'y'] } });
    const made = await request(app).post('/api/items').send({ name: 'n' });
    expect(made.status).toBe(201);
    expect(made.headers['x-made']).toBe('1');
    expect(made.body).toEqual({ name: 'n' });
    const gone = await request(app).delete('/api/items/42');
    expect(gone.status).toBe(204);
  });

  it('authorizes before reading the body, and maps body errors to the one error shape', async () => {
    expect((await request(app).patch('/api/locked').send({})).status).toBe(401);
    const big = await request(app)
      .patch('/api/locked')
      .set('x-key', 'k')
      .send({ pad: 'x'.repeat(100) });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('payload_too_large');
    const bad = await request(app)
      .patch('/api/locked')
      .set('x-key', 'k')
      .set('content-type', 'application/json')
      .send('{');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
  });
});

describe('express router(routes) at the root', () => {
  it('lets a request it has no route for go on to the app (under a prefix it answers 404 itself)', async () => {
    const app = express().use(router(routes));
    app.get('/app-route', (_req, res) => res.json({ app: true }));
    expect((await request(app).get('/app-route')).body).toEqual({ app: true });
    expect((await request(app).get('/items/1')).status).toBe(200);
  });
});

const suite: RouteTableSuiteOptions = {
  name: 'express',
  createStore: createMemoryStore,
  mount(table) {
    const app = express().use('/t', router(table));
    // Over a real socket: an unhandled rejection here used to end the process.
    return async (method, path, body, headers) => {
      const req = request(app)
        [method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](path)
        .set(headers ?? (body === undefined ? {} : { 'content-type': 'application/json' }));
      const res = await (body === undefined ? req : req.send(body));
      return {
        status: res.status,
        headers: res.headers as Record<string, string>,
        body: res.text === '' ? undefined : JSON.parse(res.text),
      };
    };
  },
};

runRouteTableSuite(suite);
// Back-channel logout over the same mounter: a form body, a public route, the sid refused afterwards.
runBackchannelLogoutSuite(suite);
