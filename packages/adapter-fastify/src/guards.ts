import {
  type ClaimsPredicate,
  requireClaims as claimsCheck,
  type GuardCheck,
  type GuardMatchOptions,
  requirePermissions as permissionsCheck,
  requireRole as roleCheck,
  requireScopes as scopesCheck,
  toHttpResponse,
} from '@jit-provision/core/adapter';
import type { preHandlerHookHandler } from 'fastify';

// Callback style: a guard is synchronous, so no promise per request. Answering without calling `done` ends
// the request there, as Fastify documents for hooks that reply.
function hook(check: GuardCheck): preHandlerHookHandler {
  return (request, reply, done) => {
    const refusal = check(request.auth);
    if (refusal === null) return done();
    const { status, headers, body } = toHttpResponse(refusal);
    reply.code(status).headers(headers).send(body);
  };
}

/**
 * A `preHandler` hook: only users whose stored role is one of `roles` pass; others get 403 `forbidden`
 * (requests without `request.auth`: 401; without an active user: 403). Needs the `jitProvision` plugin.
 *
 * @example
 * ```ts
 * import { jitProvision, requireRole } from '@jit-provision/adapter-fastify';
 *
 * await app.register(jitProvision, { provisioner });
 * app.delete('/users/:id', { preHandler: requireRole('admin') }, handler);
 * ```
 */
export function requireRole(...roles: string[]): preHandlerHookHandler {
  return hook(roleCheck(...roles));
}

/**
 * A `preHandler` hook: only tokens carrying the scopes (`scope` or `scp`) pass; others get 403
 * `insufficient_scope` with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`.
 *
 * @example
 * ```ts
 * app.post('/orders', { preHandler: requireScopes(['orders:write']) }, handler);
 * app.get('/orders', { preHandler: [requireRole('clerk'), requireScopes('orders:read')] }, handler);
 * ```
 */
export function requireScopes(
  scopes: string | readonly string[],
  options?: GuardMatchOptions,
): preHandlerHookHandler {
  return hook(scopesCheck(scopes, options));
}

/**
 * A `preHandler` hook: only tokens whose `permissions` claim (Auth0 RBAC) holds the permissions pass; others
 * get 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.post('/refunds', { preHandler: requirePermissions(['payments:refund']) }, handler);
 * ```
 */
export function requirePermissions(
  permissions: string | readonly string[],
  options?: GuardMatchOptions,
): preHandlerHookHandler {
  return hook(permissionsCheck(permissions, options));
}

/**
 * A `preHandler` hook: only requests for which `predicate(claims, auth)` returns `true` pass; others (and a
 * predicate that throws) get 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.get('/beta', { preHandler: requireClaims((claims) => claims['beta'] === true) }, handler);
 * ```
 */
export function requireClaims(predicate: ClaimsPredicate): preHandlerHookHandler {
  return hook(claimsCheck(predicate));
}
