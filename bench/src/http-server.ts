/**
 * The server side of the HTTP benchmark, run in its own process (so it gets a core of its own while
 * autocannon drives it from the parent). Started by http.ts with a JSON config in argv[2]; sends
 * `{ port }` over IPC once listening and exits on 'stop'.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { jitProvision as expressJit } from '@jit-provision/adapter-express';
import { jitProvision as fastifyJit } from '@jit-provision/adapter-fastify';
import { jitProvision as honoJit } from '@jit-provision/adapter-hono';
import { createProvisioner, type Provisioner } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import pg from 'pg';

export type Framework = 'express' | 'fastify' | 'hono';
/** bare: B0; jwt: B1 (raw jwtVerify); jwt+select: B1 + one raw indexed SELECT; cold/default: our middleware. */
export type Variant = 'bare' | 'jwt' | 'jwt+select' | 'cold' | 'default';

export interface ServerConfig {
  framework: Framework;
  variant: Variant;
  issuer: string;
  audience: string;
  databaseUrl: string;
  schema: string;
  /** The users table the raw SELECT reads (same one the Postgres store reads). */
  table: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
const { framework, variant } = config;

const pgPool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
const jwks = createRemoteJWKSet(new URL(`${config.issuer}/jwks`));
const select = {
  name: 'bench-select-user',
  text: `select * from ${config.table} where issuer = $1 and subject = $2`,
};

/** The raw baselines: exactly the work an app would write by hand, no more. */
async function raw(authorization: string | undefined): Promise<JWTPayload> {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : '';
  const { payload } = await jwtVerify(token, jwks, { issuer: config.issuer, audience: config.audience });
  if (variant === 'jwt+select') {
    const { rows } = await pgPool.query({ ...select, values: [payload.iss, payload.sub] });
    if (rows.length !== 1) throw new Error('user row missing');
  }
  return payload;
}

let provisioner: Provisioner | undefined;
if (variant === 'cold' || variant === 'default') {
  provisioner = createProvisioner({
    store: createPostgresStore({ pool: pgPool, schema: config.schema }),
    issuers: [{ issuer: config.issuer, audience: config.audience }],
    ...(variant === 'cold' ? { userCache: false as const, tokenCache: false as const } : {}),
  });
}
const usesRaw = variant === 'jwt' || variant === 'jwt+select';

async function listenExpress(): Promise<number> {
  const app = express();
  app.disable('x-powered-by');
  if (provisioner) app.use(expressJit(provisioner));
  if (usesRaw)
    app.use((req, res, next) => {
      raw(req.headers.authorization).then(
        (claims) => {
          (req as { claims?: JWTPayload }).claims = claims;
          next();
        },
        () => res.status(401).json({ error: 'invalid_token' }),
      );
    });
  app.get('/me', (req, res) => {
    res.json({ sub: req.auth?.user?.id ?? (req as { claims?: JWTPayload }).claims?.sub ?? null });
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function listenFastify(): Promise<number> {
  const app = Fastify({ logger: false });
  app.decorateRequest('claims', null);
  if (provisioner) await app.register(fastifyJit, { provisioner });
  if (usesRaw)
    app.addHook('onRequest', async (request, reply) => {
      try {
        (request as unknown as { claims: JWTPayload }).claims = await raw(request.headers.authorization);
      } catch {
        return reply.code(401).send({ error: 'invalid_token' });
      }
      return undefined;
    });
  app.get('/me', async (request) => ({
    sub: request.auth?.user?.id ?? (request as unknown as { claims: JWTPayload | null }).claims?.sub ?? null,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

async function listenHono(): Promise<number> {
  const app = new Hono<{ Variables: { claims: JWTPayload } }>();
  if (provisioner) app.use('*', honoJit(provisioner));
  if (usesRaw)
    app.use('*', async (c, next) => {
      try {
        c.set('claims', await raw(c.req.header('authorization')));
      } catch {
        return c.json({ error: 'invalid_token' }, 401);
      }
      await next();
      return undefined;
    });
  app.get('/me', (c) => c.json({ sub: c.get('auth')?.user?.id ?? c.get('claims')?.sub ?? null }));
  return new Promise((resolve) => {
    serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  });
}

const listen = { express: listenExpress, fastify: listenFastify, hono: listenHono }[framework];
const port = await listen();
process.send?.({ port });
process.on('message', async (message) => {
  // CPU this process has used so far (µs): per-request CPU is far less sensitive to outside load than req/s.
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  }
  if (message === 'stop') {
    await pgPool.end().catch(() => {});
    process.exit(0);
  }
});
