// Test support: one SCIM route table mounted under /scim/v2 in each real framework, behind one `send`.
import { router } from '@jit-provision/adapter-express';
import { routesPlugin } from '@jit-provision/adapter-fastify';
import { subApp } from '@jit-provision/adapter-hono';
import type { Route } from '@jit-provision/core/adapter';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import request from 'supertest';

export interface Sent {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body; undefined when empty. Loose, so a test reads a SCIM resource without casts. */
  // biome-ignore lint/suspicious/noExplicitAny: test support, bodies are asserted on, never trusted
  body: any;
}

export interface SendOptions {
  body?: unknown;
  /** Raw text instead of JSON (a malformed body). */
  text?: string;
  headers?: Record<string, string>;
}

export type Send = (method: string, path: string, options?: SendOptions) => Promise<Sent>;

const PREFIX = '/scim/v2';
const parse = (text: string) => (text === '' ? undefined : JSON.parse(text));
const payloadOf = (options: SendOptions) =>
  options.text ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
const headersOf = (options: SendOptions) => ({
  ...(payloadOf(options) === undefined ? {} : { 'content-type': 'application/scim+json' }),
  ...options.headers,
});

function honoApp(routes: Route[]): Send {
  const app = new Hono();
  app.route(PREFIX, subApp(routes));
  return async (method, path, options = {}) => {
    const payload = payloadOf(options);
    const res = await app.request(`${PREFIX}${path}`, {
      method,
      headers: headersOf(options),
      ...(payload === undefined ? {} : { body: payload }),
    });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: parse(await res.text()) };
  };
}

function fastifyApp(routes: Route[]): Send {
  const app = Fastify();
  const ready = app.register(routesPlugin(routes), { prefix: PREFIX }).then(() => app.ready());
  return async (method, path, options = {}) => {
    await ready;
    const payload = payloadOf(options);
    const res = await app.inject({
      method: method as 'GET',
      url: `${PREFIX}${path}`,
      headers: headersOf(options),
      ...(payload === undefined ? {} : { payload }),
    });
    return { status: res.statusCode, headers: res.headers as Record<string, string>, body: parse(res.body) };
  };
}

function expressApp(routes: Route[]): Send {
  const app = express();
  app.use(PREFIX, router(routes));
  return async (method, path, options = {}) => {
    const payload = payloadOf(options);
    let req = request(app)[method.toLowerCase() as 'get'](`${PREFIX}${path}`).set(headersOf(options));
    if (payload !== undefined) req = req.send(payload);
    const res = await req.buffer(true).parse((r, done) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        text += chunk;
      });
      r.on('end', () => done(null, text));
    });
    return {
      status: res.status,
      headers: res.headers as Record<string, string>,
      body: parse(res.body as string),
    };
  };
}

/** The three adapters, each mounting `routes` under /scim/v2. */
export const ADAPTERS: ReadonlyArray<[name: string, mount: (routes: Route[]) => Send]> = [
  ['hono', honoApp],
  ['fastify', fastifyApp],
  ['express', expressApp],
];
