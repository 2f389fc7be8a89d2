import type { Provisioner } from '@jit-provision/core';
import {
  type AdapterRequest,
  authenticateCachedRequest,
  authenticateRequest,
  type JitProvisionOptions,
  type NodeRequestLike,
  nodeAuthRequest,
} from '@jit-provision/core/adapter';
import type { MiddlewareHandler } from 'hono';
import { httpException } from './http-exception';
import { routedToPublic } from './public-routes';
import type { AuthVariables } from './variables';

export type { AuthResult } from '@jit-provision/core';
export type { ClaimsPredicate, GuardMatchOptions, JitProvisionOptions } from '@jit-provision/core/adapter';

export type { AuthVariables } from './variables';

declare module 'hono' {
  interface ContextVariableMap extends AuthVariables {}
}

/**
 * Hono middleware: verifies the bearer token, makes sure the local user exists, and sets
 * `c.get('auth')` to `{ user, identity, claims, created }`. Failures throw an `HTTPException` carrying
 * a ready JSON `Response` (status, `WWW-Authenticate`/`Retry-After` headers). A request routed to a
 * `public` route of a mounted route table (the admin API's invitation `peek`) passes without a token
 * whatever the mounting order; a token it does carry is still verified. `skip` gets the decoded path Hono
 * routes on (`c.req.path`: `/%61pi/x` as `/api/x`), without the query string.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { jitProvision } from '@jit-provision/adapter-hono';
 *
 * const app = new Hono();
 * app.use('*', jitProvision(provisioner));
 * app.get('/me', (c) => c.json(c.get('auth')?.user));
 * ```
 */
export function jitProvision(
  provisioner: Provisioner,
  options: JitProvisionOptions = {},
): MiddlewareHandler<{ Variables: AuthVariables }> {
  // Not `async`: a cached token and user continue with `return next()` (as Hono's own middleware does), no
  // promise of ours and no await; compose awaits the one `next()` returns.
  return (c, next) => {
    // Only `skip` reads the path and method: the decoded path Hono routes on (`/%61pi/x` is `/api/x`), no query.
    const request =
      options.skip === undefined
        ? adapterRequest(c.env, c.req.raw, '', '')
        : adapterRequest(c.env, c.req.raw, c.req.path, c.req.method);
    // Hono has matched every route already: a route table's public route (`peek`) needs no token.
    if (routedToPublic(c)) request.public = true;
    const now = authenticateCachedRequest(provisioner, request, options);
    if (now?.ok) {
      c.set('auth', now.auth);
      return next();
    }
    return authenticateRequest(provisioner, request, options).then((outcome) => {
      if (!outcome.ok) throw httpException(outcome.response, outcome.error);
      c.set('auth', outcome.auth);
      return next();
    });
  };
}

/**
 * On @hono/node-server the Node request is `c.env.incoming`: reading its raw headers skips building a web
 * `Headers` per request (the server builds one lazily, on first access) and still sees repeated headers.
 */
function adapterRequest(env: unknown, request: Request, path: string, method: string): AdapterRequest {
  const incoming = (env as { incoming?: { headers?: unknown; rawHeaders?: unknown } } | undefined)?.incoming;
  if (
    typeof incoming?.headers === 'object' &&
    incoming.headers !== null &&
    Array.isArray(incoming.rawHeaders)
  ) {
    return nodeAuthRequest(incoming as NodeRequestLike, path, method);
  }
  return { headers: request.headers, path, method };
}

export { type AdminApiOptions, adminApi } from './admin';
export type { GetConnInfo } from './conn-info';
export { requireClaims, requirePermissions, requireRole, requireScopes, requireUser } from './guards';
export { kratosWebhooks } from './kratos';
export { type SubAppOptions, subApp } from './routes';
