import { defineGuards, type GuardFactories, toHttpResponse } from '@jit-provision/core/adapter';
import type { preHandlerHookHandler } from 'fastify';

// Callback style: a guard is synchronous, so no promise per request. Replying without calling `done` ends
// the request there, as Fastify documents for hooks that reply.
const guards = defineGuards<preHandlerHookHandler>((check) => (request, reply, done) => {
  const refusal = check(request.auth);
  if (refusal === null) return done();
  const { status, headers, body } = toHttpResponse(refusal);
  reply.code(status).headers(headers).send(body);
});

/**
 * A `preHandler` hook: only users whose stored role is one of `roles` pass; others get 403 `forbidden`
 * (requests without `request.auth`: 401; without an active user: 403). Needs the `jitProvision` plugin.
 * A machine client (`kind: 'client'`) has no role and is refused, unless `{ clients: true }` lets clients through.
 * Bad arguments throw a `ConfigurationError` at start-up.
 *
 * @example
 * ```ts
 * import { jitProvision, requireRole } from '@jit-provision/adapter-fastify';
 *
 * await app.register(jitProvision, { provisioner });
 * app.delete('/users/:id', { preHandler: requireRole('admin') }, handler);
 * ```
 */
export const requireRole: GuardFactories<preHandlerHookHandler>['requireRole'] = guards.requireRole;

/**
 * Route guard: people only. A machine client (a client-credentials token, `auth.kind === 'client'`) gets 403
 * `forbidden`, as does a request without an active local user; without `request.auth`: 401.
 *
 * @example
 * ```ts
 * app.get('/me/settings', { preHandler: requireUser() }, handler);
 * app.get('/reports', { preHandler: [requireRole(['admin'], { clients: true }), requireScopes('reports:read')] }, handler);
 * ```
 */
export const requireUser: GuardFactories<preHandlerHookHandler>['requireUser'] = guards.requireUser;

/**
 * A `preHandler` hook: only tokens carrying the scopes (`scope` or `scp`; all of them, or one with
 * `{ match: 'any' }`) pass; others get 403 `insufficient_scope` with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`.
 *
 * @example
 * ```ts
 * app.post('/orders', { preHandler: requireScopes(['orders:write']) }, handler);
 * app.get('/orders', { preHandler: [requireRole('clerk'), requireScopes('orders:read')] }, handler);
 * ```
 */
export const requireScopes: GuardFactories<preHandlerHookHandler>['requireScopes'] = guards.requireScopes;

/**
 * A `preHandler` hook: only tokens whose `permissions` claim (Auth0 RBAC) holds the permissions pass; others
 * get 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.post('/refunds', { preHandler: requirePermissions(['payments:refund']) }, handler);
 * ```
 */
export const requirePermissions: GuardFactories<preHandlerHookHandler>['requirePermissions'] =
  guards.requirePermissions;

/**
 * A `preHandler` hook: only requests for which `predicate(claims, auth)` returns `true` pass; others (and a
 * predicate that throws) get 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.get('/beta', { preHandler: requireClaims((claims) => claims['beta'] === true) }, handler);
 * ```
 */
export const requireClaims: GuardFactories<preHandlerHookHandler>['requireClaims'] = guards.requireClaims;
