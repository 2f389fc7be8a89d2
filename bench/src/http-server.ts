/**
 * The server side of the HTTP benchmark, one process per (framework, variant), pinned to core 0 by
 * http.ts. Started with a JSON config in argv[2]; sends `{ port }` over IPC once listening.
 *
 * IPC control (not HTTP, so the control traffic is never counted as load):
 * - `'start'` opens the measured window: notes `process.cpuUsage()` and zeroes the 2xx counter;
 * - `'stop'` closes it and answers `{ cpuUs, served, ms }` (CPU of the whole process — main thread,
 *   libuv pool, GC threads — during the window, 2xx answers sent, window length);
 * - `'exit'` ends the process.
 */
import { hash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProvisioner, type Provisioner } from '@jit-provision/core';
import { createMemoryStore } from '@jit-provision/store-memory';

export type Framework = 'express' | 'fastify' | 'hono';
/**
 * bare: the handler alone; ours: `jitProvision` with default options (caches on); ours-nocache: the same
 * with `userCache: false, tokenCache: false`; empty: an empty middleware, i.e. what having any middleware costs the
 * framework (the floor under ours); peer: the framework's usual JWT middleware, verifying against the same JWKS;
 * hash (`BENCH_HASH=1`, informational): a middleware that only takes the SHA-256 of the Authorization header
 * and sets a constant `auth` the way ours does: the floor of a token cache keyed by the token's hash.
 */
export type Variant = 'bare' | 'ours' | 'ours-nocache' | 'empty' | 'peer' | 'hash';

export interface ServerConfig {
  framework: Framework;
  variant: Variant;
  issuer: string;
  audience: string;
  /** The one subject the benchmark's token carries (pre-provisioned for `ours`). */
  subject: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
const { framework, variant, issuer, audience, subject } = config;
const empty = variant === 'empty';
const HASHED = Object.freeze({ user: Object.freeze({ id: subject }) });
/** The hash variant's whole work: what keying the token cache by the token's SHA-256 costs at the least. */
const hashOf = (header: string | undefined) =>
  header === undefined ? '' : hash('sha256', header, 'base64url');

// Counted in the route handler, which only runs for authenticated requests: the 2xx count.
let measuring = false;
let served = 0;
const answered = () => {
  if (measuring) served++;
};

let provisioner: Provisioner | undefined;
if (variant === 'ours' || variant === 'ours-nocache') {
  provisioner = createProvisioner({
    store: createMemoryStore(),
    issuers: [{ issuer, audience }],
    ...(variant === 'ours-nocache' ? { userCache: false as const, tokenCache: false as const } : {}),
  });
  // "The user already provisioned": the measured requests are all fast-path (or cache) hits.
  await provisioner.preProvision({ issuer, subject, email: `${subject}@example.com` });
}

// Every variant answers the same route with a body of the same shape: `{ sub }`.
// Each process imports only its own framework and middleware: start-up is part of the run's wall time.
async function listenExpress(): Promise<number> {
  const { default: express } = await import('express');
  const app = express();
  app.disable('x-powered-by');
  if (provisioner) app.use((await import('@jit-provision/adapter-express')).jitProvision(provisioner));
  if (empty) app.use((_req, _res, next) => next());
  else if (variant === 'hash')
    app.use((req, _res, next) => {
      if (hashOf(req.headers.authorization) !== '') req.auth = HASHED as never;
      next();
    });
  else if (variant === 'peer')
    app.use((await import('express-oauth2-jwt-bearer')).auth({ issuerBaseURL: issuer, audience }));
  app.get('/me', (req, res) => {
    answered();
    const peer = (req as unknown as { auth?: { payload?: { sub?: string } } }).auth?.payload?.sub;
    res.json({ sub: req.auth?.user?.id ?? peer ?? subject });
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function listenFastify(): Promise<number> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  if (provisioner)
    await app.register((await import('@jit-provision/adapter-fastify')).jitProvision, { provisioner });
  if (empty) app.addHook('onRequest', (_request, _reply, done) => done());
  else if (variant === 'hash') {
    app.decorateRequest('auth', null);
    app.addHook('onRequest', (request, _reply, done) => {
      if (hashOf(request.headers.authorization) !== '') request.auth = HASHED as never;
      done();
    });
  } else if (variant === 'peer') {
    const { default: fastifyJwt } = await import('@fastify/jwt');
    const { default: buildGetJwks } = await import('get-jwks');
    // The pattern @fastify/jwt documents for JWKS issuers: get-jwks resolves the key by kid from the
    // issuer's discovery document.
    const getJwks = buildGetJwks({ providerDiscovery: true, issuersWhitelist: [issuer] });
    await app.register(fastifyJwt, {
      decode: { complete: true },
      secret: (_request: unknown, token: unknown) => {
        const { header, payload } = token as {
          header: { kid: string; alg: string };
          payload: { iss: string };
        };
        return getJwks.getPublicKey({ kid: header.kid, alg: header.alg, domain: payload.iss });
      },
      verify: { allowedIss: issuer, allowedAud: audience, algorithms: ['RS256'] },
    });
    app.addHook('onRequest', async (request) => {
      await request.jwtVerify();
    });
  }
  app.get('/me', async (request) => {
    answered();
    const peer = (request as unknown as { user?: { sub?: string } }).user?.sub;
    return { sub: request.auth?.user?.id ?? peer ?? subject };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

async function listenHono(): Promise<number> {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const app = new Hono<{ Variables: { jwtPayload: { sub?: string } } }>();
  if (provisioner) app.use('*', (await import('@jit-provision/adapter-hono')).jitProvision(provisioner));
  // The cheapest middleware, as in Express and Fastify: Hono's own middleware continue with `return next()`.
  if (empty) app.use('*', (_c, next) => next());
  else if (variant === 'hash')
    app.use('*', (c, next) => {
      const incoming = (c.env as { incoming: { headers: Record<string, string | undefined> } }).incoming;
      if (hashOf(incoming.headers['authorization']) !== '') c.set('auth', HASHED as never);
      return next();
    });
  else if (variant === 'peer')
    app.use(
      '*',
      (await import('hono/jwk')).jwk({
        jwks_uri: `${issuer}/jwks`,
        alg: ['RS256'],
        verification: { iss: issuer, aud: audience },
      }),
    );
  app.get('/me', (c) => {
    answered();
    return c.json({ sub: c.get('auth')?.user?.id ?? c.get('jwtPayload')?.sub ?? subject });
  });
  return new Promise((resolve) => {
    serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  });
}

const listen = { express: listenExpress, fastify: listenFastify, hono: listenHono }[framework];
const port = await listen();
process.send?.({ port });

let cpuAtStart = process.cpuUsage();
let startedAt = process.hrtime.bigint();
process.on('message', (message) => {
  if (message === 'start') {
    served = 0;
    measuring = true;
    startedAt = process.hrtime.bigint();
    cpuAtStart = process.cpuUsage();
  } else if (message === 'stop') {
    const { user, system } = process.cpuUsage(cpuAtStart);
    measuring = false;
    const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
    process.send?.({ cpuUs: user + system, served, ms });
  } else if (message === 'exit') {
    process.exit(0);
  }
});
// The parent going away (even killed) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
