import type { StoreKey, UserPatch } from '../store';

/**
 * The cache and map key of a user: issuer and subject joined by NUL, which neither may contain
 * (`validateIdentity` refuses control characters), so two different identities never share a key.
 */
export const userKey = (key: StoreKey): string => `${key.issuer}\u0000${key.subject}`;

/**
 * The profile fields of `incoming` that differ from `current`; `undefined` when nothing changed.
 * A login without an email/name says nothing about them: only string values count, so a missing or
 * null claim never clears a stored field. Stores use it to sync on upsert exactly as the provisioner does.
 *
 * @example
 * ```ts
 * profileChanges({ email: 'a@x.io', name: null }, { email: 'b@x.io' }); // { email: 'b@x.io' }
 * ```
 */
export function profileChanges(
  current: { email: string | null; name: string | null },
  incoming: { email?: string | null | undefined; name?: string | null | undefined },
): UserPatch | undefined {
  const changedEmail = typeof incoming.email === 'string' && incoming.email !== current.email;
  const changedName = typeof incoming.name === 'string' && incoming.name !== current.name;
  if (!changedEmail && !changedName) return undefined;
  const patch: UserPatch = {};
  if (changedEmail) patch.email = incoming.email;
  if (changedName) patch.name = incoming.name;
  return patch;
}
