import type { Hono } from 'hono';
import { createEdgeApp, type EdgeConfig } from './edge-app';

// A Cloudflare Worker (wrangler.toml beside this folder; `nodejs_compat` for node:crypto and node:url).
// Bindings arrive with the first request: the app, and so the provisioner and its caches, is built then and
// kept for the isolate's life.
let app: Hono | undefined;

export default {
  fetch(request: Request, env: EdgeConfig, ctx: unknown): Response | Promise<Response> {
    app ??= createEdgeApp(env);
    return app.fetch(request, env, ctx as never);
  },
};
