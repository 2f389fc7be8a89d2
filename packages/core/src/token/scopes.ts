import type { Claims } from '../types';

// How a token's scopes are read, once for the guards (`requireScopes`) and for a client's `scopes`.

/**
 * The most items read from one `scope`, `scp` or `permissions` claim. A longer claim is refused as a whole
 * (never read in part), so a hostile 10,000-item array costs one length check.
 */
export const MAX_CLAIM_ITEMS = 256;

/** Own properties only: a `__proto__` key in the token is a plain claim, never the prototype's. */
export function ownClaim(claims: Claims, name: string): unknown {
  return typeof claims === 'object' && claims !== null && Object.hasOwn(claims, name)
    ? claims[name]
    : undefined;
}

/** A space-separated claim's items, or null when it has too many. */
function splitSpaced(value: string): string[] | null {
  // split's limit stops the scan early, so an over-long claim is never split in full.
  const items = value.split(' ', MAX_CLAIM_ITEMS + 1);
  return items.length > MAX_CLAIM_ITEMS ? null : items.filter((item) => item !== '');
}

/** An array claim's items when it is an array of at most the cap's strings; otherwise null (refused). */
export function stringArray(value: unknown): readonly string[] | null {
  if (!Array.isArray(value) || value.length > MAX_CLAIM_ITEMS) return null;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return null;
  return value as string[];
}

/**
 * The token's scopes from `scope` (a space-separated string: RFC 8693, RFC 9068, Auth0, Keycloak) and `scp`
 * (a string: Entra ID; an array: Okta). Null when either is present in any other shape: refused as a whole.
 */
export function tokenScopes(claims: Claims): readonly string[] | null {
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
