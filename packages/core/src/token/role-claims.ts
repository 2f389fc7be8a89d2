import { ConfigurationError } from '../errors';
import { isRole, ROLE_RULE } from '../identity';
import type { RoleMapping } from '../types';

/**
 * The most items of a role claim read: a longer array is ignored as a whole (no role from this token), never
 * read in part, so a 10,000-item claim costs one length check and the answer never depends on where a value
 * happens to sit in it.
 */
export const MAX_ROLE_CLAIM_ITEMS = 256;

/** A checked {@link RoleMapping}: provider value → rank in `allow` (0 is highest). */
interface CompiledRoles {
  ranks: Map<string, number>;
  allow: readonly string[];
  defaultRole: string | undefined;
  sync: 'login' | 'create';
}

const compiled = new WeakMap<RoleMapping, CompiledRoles>();

function checkClaim(claim: unknown, what: string): void {
  const path = typeof claim === 'string' ? [claim] : claim;
  if (
    !Array.isArray(path) ||
    path.length === 0 ||
    path.some((key) => typeof key !== 'string' || key.length === 0)
  )
    throw new ConfigurationError(`${what}.claim must be a claim name or a non-empty path of claim names`);
}

/**
 * Check an issuer's `roles` at start-up and compile it once: every mapped role and the default must be listed
 * in `allow` and follow the role rule, so no token can ever reach a role the app did not name.
 *
 * @example
 * ```ts
 * compileRoles({ claim: ['realm_access', 'roles'], map: { 'app-admin': 'admin' }, allow: ['admin', 'user'] }, 'https://sso');
 * compileRoles({ claim: 'groups', map: { staff: 'root' }, allow: ['user'] }, 'https://sso'); // ConfigurationError
 * ```
 */
export function compileRoles(roles: RoleMapping, issuer: string): CompiledRoles {
  const known = compiled.get(roles);
  if (known !== undefined) return known;
  const what = `roles of ${issuer}`;
  if (typeof roles !== 'object' || roles === null) throw new ConfigurationError(`${what} must be an object`);
  checkClaim(roles.claim, what);
  const { allow, map } = roles;
  if (!Array.isArray(allow) || allow.length === 0)
    throw new ConfigurationError(`${what}.allow must list the app roles a claim may set`);
  for (const role of allow)
    if (!isRole(role)) throw new ConfigurationError(`${what}.allow: every role ${ROLE_RULE}`);
  if (new Set(allow).size !== allow.length) throw new ConfigurationError(`${what}.allow lists a role twice`);
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new ConfigurationError(`${what}.map must be an object of provider value → app role`);
  const ranks = new Map<string, number>();
  for (const [value, role] of Object.entries(map)) {
    const rank = allow.indexOf(role);
    if (value.length === 0 || rank === -1)
      throw new ConfigurationError(`${what}.map: every provider value must map to a role listed in allow`);
    ranks.set(value, rank);
  }
  if (roles.default !== undefined && !allow.includes(roles.default))
    throw new ConfigurationError(`${what}.default must be a role listed in allow`);
  if (roles.sync !== undefined && roles.sync !== 'login' && roles.sync !== 'create')
    throw new ConfigurationError(`${what}.sync must be 'login' or 'create'`);
  const result: CompiledRoles = {
    ranks,
    allow: Object.freeze([...allow]),
    defaultRole: roles.default,
    sync: roles.sync ?? 'login',
  };
  compiled.set(roles, result);
  return result;
}

/**
 * The app role a role claim's value maps to: the highest (by `allow` order) of the mapped values, else the
 * mapping's `default`, else undefined (the user's role is left alone). A string is one value; an array is
 * read only when it has at most {@link MAX_ROLE_CLAIM_ITEMS} items, all strings. Any other shape (a number,
 * an object, an over-long or mixed array) counts as no match: a hostile claim can never raise a role.
 */
export function mappedRole(value: unknown, roles: RoleMapping, issuer: string): string | undefined {
  const { ranks, allow, defaultRole } = compileRoles(roles, issuer);
  let best = -1;
  const consider = (item: string) => {
    // `Map` lookups only: a value such as `__proto__` or `constructor` is just an unknown key.
    const rank = ranks.get(item);
    if (rank !== undefined && (best === -1 || rank < best)) best = rank;
  };
  if (typeof value === 'string') consider(value);
  else if (Array.isArray(value) && value.length <= MAX_ROLE_CLAIM_ITEMS) {
    if (value.every((item) => typeof item === 'string')) for (const item of value) consider(item);
  }
  return best === -1 ? defaultRole : allow[best];
}
