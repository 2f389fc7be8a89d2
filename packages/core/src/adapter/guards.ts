import {
  ConfigurationError,
  ForbiddenError,
  InsufficientScopeError,
  type JitProvisionError,
  MissingTokenError,
} from '../errors';
import { hasControlCharacters, isRole, ROLE_RULE } from '../identity';
import { MAX_CLAIM_ITEMS, ownClaim, stringArray, tokenScopes } from '../token';
import type { AuthResult, Claims, ClientAuthResult, UserAuthResult, UserRecord } from '../types';

// The framework-neutral route guards. Each adapter wraps these checks in its own idiom (Express middleware,
// Fastify preHandler, Hono middleware) and answers a refusal through `toHttpResponse`, so all three agree.

/**
 * What a guard's check sees: a person with an active local user, or a machine client (`kind: 'client'`, no
 * user) on the guards that admit clients. Narrow on `kind` before reading `user`.
 */
export type GuardedAuth = (UserAuthResult & { user: UserRecord }) | ClientAuthResult;

/** Options of {@link requireRole}. */
export interface RoleGuardOptions {
  /**
   * Let machine clients (`auth.kind === 'client'`, which have no role) through this guard; default false: a
   * client is refused with 403 `forbidden`. Pair it with `requireScopes` so clients are still checked.
   */
  clients?: boolean;
}

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
export const MAX_GUARD_CLAIM_ITEMS = MAX_CLAIM_ITEMS;

// RFC 6749 §3.3 scope-token: printable ASCII without space, '"' or '\'. Also keeps the challenge header well-formed.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * The refusals every guard makes before its own check: no auth at all → 401 `missing_token`; a machine client
 * on a guard for people only → 403 `forbidden`; no local user (`onProvisioningError: 'continue'` during an
 * outage) or a user whose `status` is present and not `active` → 403 `forbidden`. Unknown statuses are
 * refused too, so a later status cannot slip through.
 */
function guard(check: (auth: GuardedAuth) => JitProvisionError | null, clients = true): GuardCheck {
  return (auth) => {
    if (auth === null || auth === undefined) return new MissingTokenError();
    if (auth.kind === 'client') {
      // Only the authenticator makes a client result, and it never carries a user.
      return clients && auth.user === null ? check(auth) : new ForbiddenError('Not for machine clients');
    }
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

/**
 * Let a request through only when its local user's role is one of `roles`. The role is the stored one
 * (`preProvision`, `setRole`, an invitation), never a claim of the token. A refusal is 403 `forbidden` and does
 * not name the roles. A machine client has no role and is refused, unless `{ clients: true }` lets clients
 * through (then check them with `requireScopes`).
 *
 * @example
 * ```ts
 * import { requireRole, toHttpResponse } from '@jit-provision/core/adapter';
 *
 * const adminsOnly = requireRole('admin', 'owner'); // checked at start-up
 * const editorsOrServices = requireRole(['editor'], { clients: true });
 * const refusal = adminsOnly(auth);                // per request: null, or the error to answer with
 * if (refusal) return toHttpResponse(refusal);
 * ```
 */
export function requireRole(roles: string | readonly string[], options?: RoleGuardOptions): GuardCheck;
export function requireRole(...roles: string[]): GuardCheck;
export function requireRole(...args: unknown[]): GuardCheck {
  const { roles, clients } = roleArguments(args);
  if (roles.length === 0) throw new ConfigurationError('requireRole: name at least one role');
  roles.forEach((role, index) => {
    if (!isRole(role)) throw new ConfigurationError(`requireRole: role ${index} ${ROLE_RULE}`);
  });
  const allowed = [...roles] as string[];
  return guard(
    (auth) => (auth.kind === 'client' || allowed.includes(auth.user.role) ? null : new ForbiddenError()),
    clients,
  );
}

/** `requireRole('a', 'b')` or `requireRole(['a', 'b'] | 'a', { clients })`. */
function roleArguments(args: unknown[]): { roles: readonly unknown[]; clients: boolean } {
  const [first, second] = args;
  if (!Array.isArray(first) && !(args.length === 2 && typeof second === 'object' && second !== null)) {
    return { roles: args, clients: false };
  }
  if (args.length > 2 || (second !== undefined && (typeof second !== 'object' || second === null))) {
    throw new ConfigurationError('requireRole: options must be an object');
  }
  const clients = (second as RoleGuardOptions | undefined)?.clients ?? false;
  if (typeof clients !== 'boolean') throw new ConfigurationError('requireRole: clients must be a boolean');
  return { roles: Array.isArray(first) ? first : [first], clients };
}

/**
 * Let a request through only when it is a person's: a machine client (`auth.kind === 'client'`) is refused with
 * 403 `forbidden`, as is a request without an active local user. For routes that act on "my" account.
 *
 * @example
 * ```ts
 * import { requireUser } from '@jit-provision/core/adapter';
 *
 * const peopleOnly = requireUser();
 * peopleOnly(auth); // null for a user, ForbiddenError for a client
 * ```
 */
export function requireUser(): GuardCheck {
  return guard(() => null, false);
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
 * const sameTenant = requireClaims((claims, auth) => auth.kind === 'user' && claims['org_id'] === auth.user.tenantId);
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

/** The guards in one framework's idiom: what every adapter exports, with `H` its handler type. */
export interface GuardFactories<H> {
  requireRole: {
    (roles: string | readonly string[], options?: RoleGuardOptions): H;
    (...roles: string[]): H;
  };
  requireUser: () => H;
  requireScopes: (scopes: string | readonly string[], options?: GuardMatchOptions) => H;
  requirePermissions: (permissions: string | readonly string[], options?: GuardMatchOptions) => H;
  requireClaims: (predicate: ClaimsPredicate) => H;
}

/**
 * The guards translated once into a framework's handler type: `wrap` turns a neutral check into a
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
    requireRole: (...roles: unknown[]) => wrap((requireRole as (...args: unknown[]) => GuardCheck)(...roles)),
    requireUser: () => wrap(requireUser()),
    requireScopes: (scopes, options) => wrap(requireScopes(scopes, options)),
    requirePermissions: (permissions, options) => wrap(requirePermissions(permissions, options)),
    requireClaims: (predicate) => wrap(requireClaims(predicate)),
  };
}
