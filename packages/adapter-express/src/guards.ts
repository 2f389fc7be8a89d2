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
import type { RequestHandler } from 'express';

function middleware(check: GuardCheck): RequestHandler {
  return (req, res, next) => {
    const refusal = check(req.auth);
    if (refusal === null) return next();
    const { status, headers, body } = toHttpResponse(refusal);
    res.status(status).set(headers).json(body);
  };
}

/**
 * Route middleware: only users whose stored role is one of `roles` pass; others get 403 `forbidden`
 * (requests without `req.auth`: 401; without an active user: 403). Put it after `jitProvision`.
 *
 * @example
 * ```ts
 * import { jitProvision, requireRole } from '@jit-provision/adapter-express';
 *
 * app.use(jitProvision(provisioner));
 * app.delete('/users/:id', requireRole('admin'), handler);
 * ```
 */
export function requireRole(...roles: string[]): RequestHandler {
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
): RequestHandler {
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
): RequestHandler {
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
export function requireClaims(predicate: ClaimsPredicate): RequestHandler {
  return middleware(claimsCheck(predicate));
}
