import { InvalidIdentityError } from '../errors';
import { validateIdentity } from '../identity';
import type { Identity, UserRecord } from '../types';

/** Issuers with a `roles` mapping: when their role applies and which roles a token may carry. */
export type RoleMappings = ReadonlyMap<string, { sync: 'login' | 'create'; allow: ReadonlySet<string> }>;

/**
 * The provider's role this login must write, or undefined: none mapped, the issuer syncs at creation only,
 * the role is local, or the row already has it. The one rule for the cache, the fast and the slow path.
 *
 * @example
 * ```ts
 * const role = roleToSync(mappings, user, identity);
 * if (role !== undefined) user = await lifecycle.syncProviderRole(user, role);
 * ```
 */
export function roleToSync(mappings: RoleMappings, user: UserRecord, identity: Identity): string | undefined {
  const role = identity.providerRole;
  if (role === undefined || user.roleSource === 'local') return undefined;
  if (role === user.role && user.roleSource === 'provider') return undefined;
  return mappings.get(identity.issuer)?.sync === 'login' ? role : undefined;
}

/**
 * `validateIdentity`, plus: a direct caller may pass `providerRole` too, and only a role the issuer's mapping
 * allows is accepted (a token's role was bounded by `allow` already; this bounds an app's own call).
 *
 * @example
 * ```ts
 * const identity = validatedIdentity(mappings, input); // InvalidIdentityError on a role outside `allow`
 * ```
 */
export function validatedIdentity(mappings: RoleMappings, input: Identity): Identity {
  const identity = validateIdentity(input);
  const role = identity.providerRole;
  if (role !== undefined && mappings.get(identity.issuer)?.allow.has(role) !== true)
    throw new InvalidIdentityError('providerRole', "providerRole must be one of the issuer's roles.allow");
  return identity;
}
