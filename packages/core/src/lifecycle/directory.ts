import { randomUUID } from 'node:crypto';
import { ConfigurationError, UserNotFoundError } from '../errors';
import { usernameFor, validateRole } from '../identity';
import type { ScimStore, ScimUserWrite, Store } from '../store';
import type { Identity, IssuerConfig, UserRecord } from '../types';
import { type ChangeReporterOptions, createChangeReporter, lifecyclePart } from './changes';
import type { DirectoryOptions, DirectoryProvisioning, DirectoryRoleMapping } from './directory-types';
import { groupRoleSync } from './group-roles';
import type { UserLifecycle } from './types';

/** What {@link createDirectoryFactory} needs from the provisioner. */
export interface DirectoryFactoryOptions extends ChangeReporterOptions {
  store: Store;
  issuers: readonly IssuerConfig[];
  prefixes: ReadonlyMap<string, string>;
  defaultRole: string;
  lifecycle: Pick<UserLifecycle, 'disable' | 'enable' | 'revokeSessions' | 'deleteUser'>;
  /** Tells the world about a created user (hooks inline, or a nudge in outbox mode). */
  announce(outcome: { user: UserRecord; created: boolean }, identity: Identity, actor: string): Promise<void>;
}

/** Checks a group→role mapping at start-up: every role well-formed, every mapped role allowed. */
function checkRoleMapping(mapping: DirectoryRoleMapping | undefined): void {
  if (mapping === undefined) return;
  if (!Array.isArray(mapping.allow) || mapping.allow.length === 0)
    throw new ConfigurationError('groups.roles.allow must list at least one role');
  for (const role of mapping.allow) validateRole(role, 'groups.roles.allow');
  for (const [group, role] of Object.entries(mapping.map ?? {}))
    if (!mapping.allow.includes(role))
      throw new ConfigurationError(`groups.roles.map: role of "${group}" is not in groups.roles.allow`);
}

function scimPart(store: Store): ScimStore {
  if (store.scim === undefined)
    throw new ConfigurationError('SCIM needs a store with the `scim` part (store-postgres, store-memory)');
  return store.scim;
}

/**
 * Build `provisioner.directory`: the directory's writes for one issuer, with events (actor `'scim'`), cache
 * invalidation everywhere and roles from groups. Options are checked when a directory is made.
 *
 * @example
 * ```ts
 * const directory = createDirectoryFactory(options)({ issuer, onDelete: 'disable' });
 * await directory.setActive(userId, false);
 * ```
 */
export function createDirectoryFactory(
  options: DirectoryFactoryOptions,
): (directoryOptions: DirectoryOptions) => DirectoryProvisioning {
  const { store, lifecycle, outboxMode } = options;
  const reporter = createChangeReporter(options);
  return (directoryOptions) => {
    const { issuer, onDelete = 'disable', groupRoles, actor = 'scim' } = directoryOptions;
    const config = options.issuers.find((entry) => entry.issuer === issuer);
    if (config === undefined) throw new ConfigurationError(`SCIM issuer ${issuer} is not a trusted issuer`);
    if (onDelete !== 'disable' && onDelete !== 'delete')
      throw new ConfigurationError("onDelete must be 'disable' or 'delete'");
    checkRoleMapping(groupRoles);
    const scim = scimPart(store);
    lifecyclePart(store, 'SCIM');
    const prefix = options.prefixes.get(issuer) ?? '';
    const syncRoles = groupRoleSync({
      store,
      scim,
      issuer,
      mapping: groupRoles,
      defaultRole: options.defaultRole,
      reporter,
      actor,
    });

    async function setActive(id: string, active: boolean): Promise<UserRecord> {
      const user = await store.getUser(id);
      if (user === null) throw new UserNotFoundError();
      if ((user.status === 'active') === active) return user;
      if (active) return lifecycle.enable(id, { actor });
      await lifecycle.disable(id, { actor, reason: 'deprovisioned by the identity provider' });
      return lifecycle.revokeSessions(id, { actor });
    }

    return {
      issuer,
      scim,

      async createUser(write: ScimUserWrite) {
        // Okta's externalId is the token's `sub`: such a row is bound at once (decision 0008).
        const subject =
          config.externalIdClaim === 'sub' && write.externalId !== null ? write.externalId : null;
        const identity: Identity = {
          issuer,
          subject: subject ?? '',
          email: write.email,
          name: write.name,
          ...(write.externalId === null ? {} : { externalId: write.externalId }),
        };
        const result = await scim.createUser({
          ...write,
          issuer,
          subject,
          // Unbound until the first login: a username no token can produce, replaced by the bind.
          username: usernameFor(prefix, subject ?? `scim:${randomUUID()}`),
          role: options.defaultRole,
          roleSource: 'default',
          ...(outboxMode ? { emitEvent: { identity, actor } } : {}),
        });
        if (result.created)
          await options.announce({ user: result.record.user, created: true }, identity, actor);
        else options.forget(result.record.user);
        return result;
      },

      async replaceUser(id, write, replaceOptions = {}) {
        const record = await scim.replaceUser(issuer, id, write, replaceOptions);
        if (record !== null) options.forget(record.user);
        return record;
      },

      setActive,

      async removeUser(id) {
        if ((await scim.getUser(issuer, id)) === null) return false;
        if (onDelete === 'delete') {
          await lifecycle.deleteUser(id, { actor });
          return true;
        }
        // Disabled (and signed out) before it is hidden: a failure in between leaves a visible, disabled user.
        await setActive(id, false);
        return scim.hideUser(issuer, id);
      },

      async createGroup(write) {
        const group = await scim.createGroup(issuer, write);
        await syncRoles(group.members);
        return group;
      },

      async replaceGroup(id, write, replaceOptions = {}) {
        const before = await scim.getGroup(issuer, id);
        const group = await scim.replaceGroup(issuer, id, write, replaceOptions);
        if (group !== null) await syncRoles([...(before?.members ?? []), ...group.members]);
        return group;
      },

      async changeMembers(id, change) {
        const group = await scim.changeMembers(issuer, id, change);
        if (group !== null) await syncRoles([...(change.add ?? []), ...(change.remove ?? [])]);
        return group;
      },

      async deleteGroup(id) {
        const before = await scim.getGroup(issuer, id);
        const deleted = await scim.deleteGroup(issuer, id);
        if (deleted && before !== null) await syncRoles(before.members);
        return deleted;
      },
    };
  };
}
