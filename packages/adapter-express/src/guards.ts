import { defineGuards, type GuardFactories, toHttpResponse } from '@jit-provision/core/adapter';
import type { RequestHandler } from 'express';

const guards = defineGuards<RequestHandler>((check) => (req, res, next) => {
  const refusal = check(req.auth);
  if (refusal === null) return next();
  const { status, headers, body } = toHttpResponse(refusal);
  res.status(status).set(headers).json(body);
});

/**
 * Route middleware: only users whose stored role is one of `roles` pass; others get 403 `forbidden`
 * (requests without `req.auth`: 401; without an active user: 403). Put it after `jitProvision`.
 * A machine client (`kind: 'client'`) has no role and is refused, unless `{ clients: true }` lets clients through.
 * Bad arguments throw a `ConfigurationError` at start-up.
 *
 * @example
 * ```ts
 * import { jitProvision, requireRole } from '@jit-provision/adapter-express';
 *
 * app.use(jitProvision(provisioner));
 * app.delete('/users/:id', requireRole('admin'), handler);
 * ```
 */
export const requireRole: GuardFactories<RequestHandler>['requireRole'] = guards.requireRole;

/**
 * Route guard: people only. A machine client (a client-credentials token, `auth.kind === 'client'`) gets 403
 * `forbidden`, as does a request without an active local user; without `req.auth`: 401.
 *
 * @example
 * ```ts
 * app.get('/me/settings', requireUser(), handler);
 * app.get('/reports', requireRole(['admin'], { clients: true }), requireScopes('reports:read'), handler);
 * ```
 */
export const requireUser: GuardFactories<RequestHandler>['requireUser'] = guards.requireUser;

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
export const requireScopes: GuardFactories<RequestHandler>['requireScopes'] = guards.requireScopes;

/**
 * Route middleware: only tokens whose `permissions` claim (Auth0 RBAC) holds the permissions pass; others get
 * 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.post('/refunds', requirePermissions(['payments:refund']), handler);
 * ```
 */
export const requirePermissions: GuardFactories<RequestHandler>['requirePermissions'] =
  guards.requirePermissions;

/**
 * Route middleware: only requests for which `predicate(claims, auth)` returns `true` pass; others (and a
 * predicate that throws) get 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.get('/beta', requireClaims((claims) => claims['beta'] === true), handler);
 * ```
 */
export const requireClaims: GuardFactories<RequestHandler>['requireClaims'] = guards.requireClaims;
