import { defaultPrefix, usernameFor } from '../identity';
import type { NewUser, Store } from '../store';
import type { Identity, Logger, RoleSource } from '../types';
import { createViaApp, type Outcome } from './create-user';
import type { ProvisionerSettings } from './options';

/** Builds the row a creation writes; `actor` is who created it (null for a login). */
export type NewUserBuilder = (
  identity: Identity,
  role: string,
  roleSource: RoleSource,
  actor?: string | null,
) => NewUser;

/** Writes a new row (or finds the one a racer wrote): what both the slow path and `preProvision` create with. */
export type RowCreator = (input: NewUser, identity: Identity) => Promise<Outcome>;

/**
 * The row builder: username from the issuer's prefix, profile from the identity and, in outbox mode, the
 * `user.provisioned` event the store writes in the same transaction.
 *
 * @example
 * ```ts
 * const newUser = newUserBuilder(resolvePrefixes(issuers), false);
 * await store.upsert(newUser(identity, 'user', 'default'));
 * ```
 */
export function newUserBuilder(prefixes: ReadonlyMap<string, string>, outboxMode: boolean): NewUserBuilder {
  return (identity, role, roleSource, actor = null) => ({
    issuer: identity.issuer,
    subject: identity.subject,
    username: usernameFor(prefixes.get(identity.issuer) ?? defaultPrefix(identity.issuer), identity.subject),
    role,
    roleSource,
    email: identity.email ?? null,
    name: identity.name ?? null,
    tenantId: identity.tenantId ?? null,
    ...(identity.externalId !== undefined ? { externalId: identity.externalId } : {}),
    ...(outboxMode ? { emitEvent: actor === null ? { identity } : { identity, actor } } : {}),
  });
}

/**
 * How rows are created: the store's atomic `upsert`, or createUser mode (reserve → the app's createUser →
 * confirm) when the app owns user creation.
 *
 * @example
 * ```ts
 * const createRow = rowCreator(store, settings.createUser, logger);
 * const { user, created } = await createRow(newUser(identity, role, source), identity);
 * ```
 */
export function rowCreator(
  store: Store,
  createUser: ProvisionerSettings['createUser'],
  logger: Logger,
): RowCreator {
  return createUser === undefined
    ? (input) => store.upsert(input)
    : createViaApp({ store, logger, ...createUser });
}
