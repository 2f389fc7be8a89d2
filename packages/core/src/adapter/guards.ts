import {
  ConfigurationError,
  ForbiddenError,
  InsufficientScopeError,
  type JitProvisionError,
  MissingTokenError,
} from '../errors';
import { hasControlCharacters, isRole, ROLE_RULE } from '../identity';
import type { AuthResult, Claims, UserRecord } from '../types';

// The framework-neutral route guards. Each adapter wraps these checks in its own idiom (Express middleware,
// Fastify preHandler, Hono middleware) and answers a refusal through `toHttpResponse`, so all three agree.

/** What a guard's check sees once the request is known to carry an active local user. */
export type GuardedAuth = AuthResult & { user: UserRecord };

/**
 * A framework-neutral guard: `null` lets the request through; an error is the refusal, ready for
 * `toHttpResponse`. It never throws and never awaits.
 */
export type GuardCheck = (auth: AuthResult | null | undefined) => JitProvisionError | null;

/** How several required scopes or permissions combine: every one of them (default) or at least one. */
export interface GuardMatchOptions {
  match?: 'all' | 'any';
}

/**
 * A claim check for {@link requireClaims}. Synchronous: only `true` lets the request through, and a predicate
 * that throws (e.g. on a claim of an unexpected shape) refuses it.
 */
export type ClaimsPredicate = (claims: Readonly<Claims>, auth: GuardedAuth) => boolean;

/**
 * The most items a guard reads from one `scope`, `scp` or `permissions` claim. A longer claim is refused as a
 * whole (never read in part), so a hostile 10,000-item array costs one length check.
 */
export const MAX_GUARD_CLAIM_ITEMS = 256;

// RFC 6749 §3.3 scope-token: printable ASCII without space, '"' or '\'. Also keeps the challenge header well-formed.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * The refusals every guard makes before its own check: no auth at all → 401 `missing_token`; no local user
 * (`onProvisioningError: 'continue'` during an outage) or a user whose `status` is present and not `active`
 * → 403 `forbidden`. Unknown statuses are refused too, so a later status cannot slip through.
 */
function guard(check: (auth: GuardedAuth) => JitProvisionError | null): GuardCheck {
  return (auth) => {
    if (auth === null || auth === undefined) return new MissingTokenError();
    const { user } = auth;
    if (user === null || user === undefined) return new ForbiddenError('No local user for this request');
    const status = (user as { status?: unknown }).status;
    if (status !== undefined && status !== 'active') return new ForbiddenError('The user is not active');
    return check(auth as GuardedAuth);
  };
}

function matchMode(options: GuardMatchOptions | undefined, name: string): 'all' | 'any' {
  if (options === undefined) return 'all';
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError(`${name}: options must be an object`);
  }
  const { match = 'all' } = options;
  if (match !== 'all' && match !== 'any') {
    throw new ConfigurationError(`${name}: match must be 'all' or 'any'`);
  }
  return match;
}

function requiredList(
  value: string | readonly string[],
  name: string,
  valid: (item: string) => boolean,
  rule: string,
): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? [...value] : null;
  if (list === null || list.length === 0) throw new ConfigurationError(`${name}: name at least one`);
  if (list.length > MAX_GUARD_CLAIM_ITEMS) {
    throw new ConfigurationError(`${name}: at most ${MAX_GUARD_CLAIM_ITEMS} items`);
  }
  list.forEach((item, index) => {
    if (typeof item !== 'string' || !valid(item)) {
      throw new ConfigurationError(`${name}: item ${index} ${rule}`);
    }
  });
  return list;
}

function matches(required: readonly string[], held: readonly string[], mode: 'all' | 'any'): boolean {
  return mode === 'all'
    ? required.every((item) => held.includes(item))
    : required.some((item) => held.includes(item));
}

/** Own properties only: a `__proto__` key in the token is a plain claim, never the prototype's. */
function ownClaim(claims: Claims, name: string): unknown {
  return typeof claims === 'object' && claims !== null && Object.hasOwn(claims, name)
    ? claims[name]
    : undefined;
}

/** A space-separated claim's items, or null when it has too many. */
function splitSpaced(value: string): string[] | null {
  // split's limit stops the scan early, so an over-long claim is never split in full.
  const items = value.split(' ', MAX_GUARD_CLAIM_ITEMS + 1);
  return items.length > MAX_GUARD_CLAIM_ITEMS ? null : items.filter((item) => item !== '');
}

/** An array claim's items when it is an array of at most the cap's strings; otherwise null (refused). */
function stringArray(value: unknown): readonly string[] | null {
  if (!Array.isArray(value) || value.length > MAX_GUARD_CLAIM_ITEMS) return null;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return null;
  return value as string[];
}

/**
 * The token's scopes from `scope` (a space-separated string: RFC 8693, RFC 9068, Auth0, Keycloak) and `scp`
 * (a string: Entra ID; an array: Okta). Null when either is present in any other shape: refused as a whole.
 */
function tokenScopes(claims: Claims): readonly string[] | null {
  const scope = ownClaim(claims, 'scope');
  const scp = ownClaim(claims, 'scp');
  let held: readonly string[] = [];
  if (scope !== undefined) {
    if (typeof scope !== 'string') return null;
    const items = splitSpaced(scope);
    if (items === null) return null;
    held = items;
  }
  if (scp !== undefined) {
    const items = typeof scp === 'string' ? splitSpaced(scp) : stringArray(scp);
    if (items === null) return null;
    held = held.length === 0 ? items : [...held, ...items];
  }
  return held;
}

/**
 * Let a request through only when its local user's role is one of `roles`. The role is the stored one
 * (`preProvision`, `setRole`, an invitation), never a claim of the token. A refusal is 403 `forbidden` and does
 * not name the roles.
 *
 * @example
 * ```ts
 * import { requireRole, toHttpResponse } from '@jit-provision/core/adapter';
 *
 * const adminsOnly = requireRole('admin', 'owner'); // checked at start-up
 * const refusal = adminsOnly(auth);                // per request: null, or the error to answer with
 * if (refusal) return toHttpResponse(refusal);
 * ```
 */
export function requireRole(...roles: string[]): GuardCheck {
  if (roles.length === 0) throw new ConfigurationError('requireRole: name at least one role');
  roles.forEach((role, index) => {
    if (!isRole(role)) throw new ConfigurationError(`requireRole: role ${index} ${ROLE_RULE}`);
  });
  const allowed = [...roles];
  return guard(({ user }) => (allowed.includes(user.role) ? null : new ForbiddenError()));
}

/**
 * Let a request through only when its access token carries the scopes: all of them (default) or, with
 * `{ match: 'any' }`, at least one. Reads `scope` (space-separated string) and `scp` (string or array of
 * strings); any other shape, or more than {@link MAX_GUARD_CLAIM_ITEMS} items, counts as no scope. A refusal is
 * 403 `insufficient_scope` with `WWW-Authenticate: Bearer error="insufficient_scope", scope="<required>"`
 * (RFC 6750 §3.1). Scopes are RFC 6749 scope tokens: no spaces, `"` or `\`.
 *
 * @example
 * ```ts
 * import { requireScopes } from '@jit-provision/core/adapter';
 *
 * const canWrite = requireScopes(['orders:read', 'orders:write']);
 * const canRead = requireScopes(['orders:read', 'orders:admin'], { match: 'any' });
 * canWrite(auth); // null, or InsufficientScopeError
 * ```
 */
export function requireScopes(scopes: string | readonly string[], options?: GuardMatchOptions): GuardCheck {
  const mode = matchMode(options, 'requireScopes');
  const required = requiredList(
    scopes,
    'requireScopes',
    (item) => SCOPE_TOKEN.test(item),
    "must be a scope token (printable ASCII without spaces, '\"' or '\\')",
  );
  return guard(({ claims }) => {
    const held = tokenScopes(claims);
    return held !== null && matches(required, held, mode) ? null : new InsufficientScopeError(required);
  });
}

/**
 * Let a request through only when the token's `permissions` claim (Auth0 RBAC, "Add Permissions in the Access
 * Token") holds the permissions: all of them (default) or, with `{ match: 'any' }`, at least one. The claim
 * must be an array of at most {@link MAX_GUARD_CLAIM_ITEMS} strings; any other shape counts as none. A refusal
 * is 403 `forbidden` and does not name the permissions.
 *
 * @example
 * ```ts
 * import { requirePermissions } from '@jit-provision/core/adapter';
 *
 * const canRefund = requirePermissions(['payments:refund']);
 * canRefund(auth); // null, or ForbiddenError
 * ```
 */
export function requirePermissions(
  permissions: string | readonly string[],
  options?: GuardMatchOptions,
): GuardCheck {
  const mode = matchMode(options, 'requirePermissions');
  const required = requiredList(
    permissions,
    'requirePermissions',
    (item) => item.length > 0 && item.length <= 256 && !hasControlCharacters(item),
    'must be 1-256 characters without control characters',
  );
  return guard(({ claims }) => {
    const held = stringArray(ownClaim(claims, 'permissions'));
    return held !== null && matches(required, held, mode) ? null : new ForbiddenError();
  });
}

/**
 * Let a request through only when `predicate(claims, auth)` returns exactly `true`. The claims are the
 * verified token's, as the provider sent them: check their shape, they may be anything. A predicate that
 * throws refuses the request (403 `forbidden`, the error kept as `cause`); one that returns a promise is a
 * programming error (500 `configuration_error`): guards are synchronous, write your own middleware for I/O.
 *
 * @example
 * ```ts
 * import { requireClaims } from '@jit-provision/core/adapter';
 *
 * const sameTenant = requireClaims((claims, { user }) => claims['org_id'] === user.tenantId);
 * sameTenant(auth); // null, or ForbiddenError
 * ```
 */
export function requireClaims(predicate: ClaimsPredicate): GuardCheck {
  if (typeof predicate !== 'function') throw new ConfigurationError('requireClaims: needs a function');
  return guard((auth) => {
    let verdict: unknown;
    try {
      verdict = predicate(auth.claims, auth);
    } catch (cause) {
      return new ForbiddenError(undefined, { cause });
    }
    if (verdict === true) return null;
    if (typeof (verdict as { then?: unknown } | null)?.then === 'function') {
      // Never leave a rejection unhandled; the request is refused whatever the promise does.
      Promise.resolve(verdict).catch(() => {});
      return new ConfigurationError('requireClaims: the predicate must return a boolean, not a promise');
    }
    return new ForbiddenError();
  });
}

/** The four guards in one framework's idiom: what every adapter exports, with `H` its handler type. */
export interface GuardFactories<H> {
  requireRole: (...roles: string[]) => H;
  requireScopes: (scopes: string | readonly string[], options?: GuardMatchOptions) => H;
  requirePermissions: (permissions: string | readonly string[], options?: GuardMatchOptions) => H;
  requireClaims: (predicate: ClaimsPredicate) => H;
}

/**
 * The four guards translated once into a framework's handler type: `wrap` turns a neutral check into a
 * middleware or hook that answers a refusal with `toHttpResponse`. Arguments are still checked when a guard is
 * built, i.e. at start-up.
 *
 * @example
 * ```ts
 * import { defineGuards, toHttpResponse } from '@jit-provision/core/adapter';
 *
 * const guards = defineGuards((check) => (ctx, next) => {
 *   const refusal = check(ctx.auth);
 *   if (refusal === null) return next();
 *   const { status, headers, body } = toHttpResponse(refusal);
 *   ctx.respond(status, headers, body);
 * });
 * export const requireRole = guards.requireRole;
 * ```
 */
export function defineGuards<H>(wrap: (check: GuardCheck) => H): GuardFactories<H> {
  return {
    requireRole: (...roles) => wrap(requireRole(...roles)),
    requireScopes: (scopes, options) => wrap(requireScopes(scopes, options)),
    requirePermissions: (permissions, options) => wrap(requirePermissions(permissions, options)),
    requireClaims: (predicate) => wrap(requireClaims(predicate)),
  };
}
