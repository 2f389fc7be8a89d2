/**
 * Hono's share of a cache hit without the network: `app.fetch` of one GET /me with a valid token, in this
 * process, CPU per request (`process.cpuUsage`, 50,000 requests per run, 9 alternating rounds, median), with
 * the Node request handed in as @hono/node-server does (`env.incoming`). Variants: bare, an empty middleware
 * (`return next()`), an async empty one (`await next()`), a middleware that only hashes the token, and ours.
 * Not part of run-all; a companion to profile/http-cpu.ts. Run: `npx tsx profile/hono-inprocess.ts`.
 */
import { hash } from 'node:crypto';
import { jitProvision } from '@jit-provision/adapter-hono';
import { createProvisioner } from '@jit-provision/core';
import { createMemoryStore } from '@jit-provision/store-memory';
import { Hono, type MiddlewareHandler } from 'hono';
import { AUDIENCE, openIssuer } from '../src/env';
import { median } from '../src/report';

const idp = await openIssuer();
const subject = 'user-0';
const token = await idp.mint(
  { sub: subject, email: `${subject}@example.com` },
  { audience: AUDIENCE, expiresIn: 3600 },
);
const provisioner = createProvisioner({
  store: createMemoryStore(),
  issuers: [{ issuer: idp.issuer, audience: AUDIENCE }],
});
await provisioner.preProvision({ issuer: idp.issuer, subject, email: `${subject}@example.com` });

const HASHED = Object.freeze({ user: Object.freeze({ id: subject }) });
const middlewares: Record<string, MiddlewareHandler | undefined> = {
  bare: undefined,
  empty: (_c, next) => next(),
  'empty async': async (_c, next) => {
    await next();
  },
  'hash only': (c, next) => {
    const { incoming } = c.env as { incoming: { headers: Record<string, string> } };
    if (hash('sha256', incoming.headers['authorization'] ?? '', 'base64url') !== '')
      c.set('auth', HASHED as never);
    return next();
  },
  ours: jitProvision(provisioner) as MiddlewareHandler,
};
const apps = Object.entries(middlewares).map(([name, mw]) => {
  const app = new Hono();
  if (mw !== undefined) app.use('*', mw);
  app.get('/me', (c) =>
    c.json({ sub: (c.get('auth' as never) as { user?: { id: string } } | undefined)?.user?.id ?? subject }),
  );
  return { name, app };
});

const incoming = {
  method: 'GET',
  url: '/me',
  headers: { host: '127.0.0.1', authorization: `Bearer ${token}` },
  rawHeaders: ['host', '127.0.0.1', 'authorization', `Bearer ${token}`],
};
const request = new Request('http://127.0.0.1/me', { headers: incoming.headers });
const env = { incoming, outgoing: {} };
const N = 50_000;
async function run(app: Hono): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const res = await app.fetch(request, env);
    if (res.status !== 200) throw new Error(`status ${res.status}`);
  }
  const { user, system } = process.cpuUsage(start);
  return (user + system) / N;
}
for (const { app } of apps) await run(app);
const samples = new Map<string, number[]>(apps.map(({ name }) => [name, []]));
for (let round = 0; round < 9; round++) {
  const order = round % 2 === 0 ? apps : [...apps].reverse();
  for (const { name, app } of order) samples.get(name)?.push(await run(app));
}
const m = (name: string) => median(samples.get(name) ?? []);
for (const { name } of apps)
  console.log(
    `${name.padEnd(12)} ${m(name).toFixed(2)} µs/req  empty ÷ it ${(m('empty') / m(name)).toFixed(2)}`,
  );
await idp.close();
