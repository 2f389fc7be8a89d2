import { defineGuards, type GuardFactories, toHttpResponse } from '@jit-provision/core/adapter';
import type { MiddlewareHandler } from 'hono';
import { httpException } from './http-exception';
import type { AuthVariables } from './variables';

type Guard = MiddlewareHandler<{ Variables: AuthVariables }>;

const guards = defineGuards<Guard>((check) => async (c, next) => {
  const refusal = check(c.get('auth'));
  if (refusal !== null) throw httpException(toHttpResponse(refusal), refusal);
  await next();
});

/**
 * Route middleware: only users whose stored role is one of `roles` pass; others get 403 `forbidden`
 * (requests without `auth`: 401; without an active user: 403). Refusals are thrown as an `HTTPException`
 * carrying the JSON `Response`, like `jitProvision`'s. Put it after `jitProvision`.
 * A machine client (`kind: 'client'`) has no role and is refused, unless `{ clients: true }` lets clients through.
 * Bad arguments throw a `ConfigurationError` at start-up.
 *
 * @example
 * ```ts
 * import { jitProvision, requireRole } from '@jit-provision/adapter-hono';
 *
 * app.use('*', jitProvision(provisioner));
 * app.delete('/users/:id', requireRole('admin'), (c) => c.body(null, 204));
 * ```
 */
export const requireRole: GuardFactories<Guard>['requireRole'] = guards.requireRole;

/**
 * Route guard: people only. A machine client (a client-credentials token, `auth.kind === 'client'`) gets 403
 * `forbidden`, as does a request without an active local user; without `auth`: 401.
 *
 * @example
 * ```ts
 * app.get('/me/settings', requireUser(), (c) => c.json(c.get('auth')?.user));
 * app.get('/reports', requireRole(['admin'], { clients: true }), requireScopes('reports:read'), handler);
 * ```
 */
export const requireUser: GuardFactories<Guard>['requireUser'] = guards.requireUser;

/**
 * Route middleware: only tokens carrying the scopes (`scope` or `scp`; all of them, or one with
 * `{ match: 'any' }`) pass; others get 403 `insufficient_scope` with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`.
 *
 * @example
 * ```ts
 * app.post('/orders', requireScopes(['orders:write']), handler);
 * app.get('/orders', requireScopes(['orders:read', 'orders:admin'], { match: 'any' }), handler);
 * ```
 */
export const requireScopes: GuardFactories<Guard>['requireScopes'] = guards.requireScopes;

/**
 * Route middleware: only tokens whose `permissions` claim (Auth0 RBAC) holds the permissions pass; others get
 * 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.post('/refunds', requirePermissions(['payments:refund']), handler);
 * ```
 */
export const requirePermissions: GuardFactories<Guard>['requirePermissions'] = guards.requirePermissions;

/**
 * Route middleware: only requests for which `predicate(claims, auth)` returns `true` pass; others (and a
 * predicate that throws) get 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.get('/beta', requireClaims((claims) => claims['beta'] === true), handler);
 * ```
 */
export const requireClaims: GuardFactories<Guard>['requireClaims'] = guards.requireClaims;
