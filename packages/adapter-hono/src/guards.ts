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
import type { MiddlewareHandler } from 'hono';
import { httpException } from './http-exception';
import type { AuthVariables } from './variables';

function middleware(check: GuardCheck): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const refusal = check(c.get('auth'));
    if (refusal !== null) throw httpException(toHttpResponse(refusal), refusal);
    await next();
  };
}

/**
 * Route middleware: only users whose stored role is one of `roles` pass; others get 403 `forbidden`
 * (requests without `auth`: 401; without an active user: 403). Refusals are thrown as an `HTTPException`
 * carrying the JSON `Response`, like `jitProvision`'s. Put it after `jitProvision`.
 *
 * @example
 * ```ts
 * import { jitProvision, requireRole } from '@jit-provision/adapter-hono';
 *
 * app.use('*', jitProvision(provisioner));
 * app.delete('/users/:id', requireRole('admin'), (c) => c.body(null, 204));
 * ```
 */
export function requireRole(...roles: string[]): MiddlewareHandler<{ Variables: AuthVariables }> {
  return middleware(roleCheck(...roles));
}

/**
 * Route middleware: only tokens carrying the scopes (`scope` or `scp`) pass; others get 403
 * `insufficient_scope` with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`.
 *
 * @example
 * ```ts
 * app.post('/orders', requireScopes(['orders:write']), handler);
 * app.get('/orders', requireScopes(['orders:read', 'orders:admin'], { match: 'any' }), handler);
 * ```
 */
export function requireScopes(
  scopes: string | readonly string[],
  options?: GuardMatchOptions,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return middleware(scopesCheck(scopes, options));
}

/**
 * Route middleware: only tokens whose `permissions` claim (Auth0 RBAC) holds the permissions pass; others get
 * 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.post('/refunds', requirePermissions(['payments:refund']), handler);
 * ```
 */
export function requirePermissions(
  permissions: string | readonly string[],
  options?: GuardMatchOptions,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return middleware(permissionsCheck(permissions, options));
}

/**
 * Route middleware: only requests for which `predicate(claims, auth)` returns `true` pass; others (and a
 * predicate that throws) get 403 `forbidden`.
 *
 * @example
 * ```ts
 * app.get('/beta', requireClaims((claims) => claims['beta'] === true), handler);
 * ```
 */
export function requireClaims(predicate: ClaimsPredicate): MiddlewareHandler<{ Variables: AuthVariables }> {
  return middleware(claimsCheck(predicate));
}
