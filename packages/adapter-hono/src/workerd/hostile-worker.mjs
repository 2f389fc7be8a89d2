// The hostile-input kit's app inside workerd: a Hono app on the BUILT adapter-hono, core and store-memory, with
// `jitProvision` mounted app-wide and `GET /me` answering `{ auth }`, exactly the app the kit serves on Node,
// Bun and Deno. workerd-hostile.edge.ts (vitest on Node) sends each case of `hostileCases` to it through
// Miniflare's `dispatchFetch`. What the kit asserts on lives here, so the Worker answers for it on a path the
// app never sees (the Worker routes it before `app.fetch`): POST /__hostile/state gives the store-call count,
// the logs from an index on (rendered by `node:util` inspect, as the kit renders them) and store lookups.
import { inspect } from 'node:util';
import { createProvisioner } from '@jit-provision/core';
import { createMemoryStore } from '@jit-provision/store-memory';
import { Hono } from 'hono';
import { jitProvision } from '../../dist/index.js';

/** A real store whose every method call (nested `invitations`/`outbox` too) increments `calls`. */
function counted(store) {
  const counter = { calls: 0 };
  const wrap = (target) =>
    new Proxy(target, {
      get(obj, property, receiver) {
        const value = Reflect.get(obj, property, receiver);
        if (typeof value === 'function')
          return (...args) => {
            counter.calls += 1;
            return value.apply(obj, args);
          };
        if (
          typeof value === 'object' &&
          value !== null &&
          (property === 'invitations' || property === 'outbox')
        )
          return wrap(value);
        return value;
      },
    });
  return { store: wrap(store), counter };
}

/** One app per isolate, built on the first request (bindings are only known then). */
let state;
function setup(env) {
  if (state !== undefined) return state;
  const raw = createMemoryStore();
  const { store, counter } = counted(raw);
  const logs = [];
  const logger = {
    warn: (obj, msg) => void logs.push([msg, obj]),
    error: (obj, msg) => void logs.push([msg, obj]),
  };
  const provisioner = createProvisioner({
    store,
    issuers: [{ issuer: env.ISSUER, audience: env.AUDIENCE }],
    logger,
  });
  const app = new Hono();
  app.use('*', jitProvision(provisioner));
  app.get('/me', (c) => c.json({ auth: c.get('auth') }));
  state = { app, raw, counter, logs };
  return state;
}

/** The kit's view of the Worker's side: counters, logs since `logsFrom`, and a lookup per subject asked for. */
async function report(body) {
  const lookups = await Promise.all(
    (body.subjects ?? []).map((subject) => state.raw.lookup({ issuer: body.issuer, subject })),
  );
  return {
    calls: state.counter.calls,
    logCount: state.logs.length,
    logs: inspect(state.logs.slice(body.logsFrom ?? 0), { depth: 8 }),
    lookups,
  };
}

export default {
  async fetch(request, env) {
    const { app } = setup(env);
    if (new URL(request.url).pathname === '/__hostile/state')
      return Response.json(await report(await request.json()));
    return app.fetch(request, env);
  },
};
