import type { ScimGroupRecord, ScimStore, Store } from '../store';
import type { ChangeReporter } from './changes';
import type { DirectoryRoleMapping } from './directory-types';

/** What {@link groupRoleSync} needs. */
export interface GroupRoleSyncOptions {
  store: Store;
  scim: ScimStore;
  issuer: string;
  mapping: DirectoryRoleMapping | undefined;
  defaultRole: string;
  reporter: ChangeReporter;
  actor: string;
}

// A replaced group of thousands of members is re-evaluated a few users at a time, not all at once.
const PARALLEL = 8;

/**
 * The role a user's groups give: the earliest role of `allow` that one of the groups (by `displayName`, then
 * `externalId`) maps to; undefined when none does.
 *
 * @example
 * ```ts
 * roleFromGroups([{ displayName: 'App Admins', externalId: null }], { map: { 'App Admins': 'admin' }, allow: ['admin'] }); // 'admin'
 * ```
 */
export function roleFromGroups(
  groups: readonly Pick<ScimGroupRecord, 'displayName' | 'externalId'>[],
  mapping: DirectoryRoleMapping,
): string | undefined {
  const mapped = new Set<string>();
  for (const group of groups) {
    const byName = Object.hasOwn(mapping.map, group.displayName) ? mapping.map[group.displayName] : undefined;
    if (byName !== undefined) mapped.add(byName);
    const id = group.externalId;
    if (id !== null && Object.hasOwn(mapping.map, id)) mapped.add(mapping.map[id] as string);
  }
  return mapping.allow.find((role) => mapped.has(role));
}

/**
 * Build the sync of roles from groups: each affected user's role is re-evaluated from all their groups and
 * written with `roleSource: 'scim'` (never over a local grant, decided atomically by the store); a user whose
 * groups no longer map to a role gets the default role back, but only while the role is one SCIM gave.
 * `user.role_changed` is emitted once per real change.
 *
 * @example
 * ```ts
 * const sync = groupRoleSync({ store, scim, issuer, mapping, defaultRole: 'user', reporter, actor: 'scim' });
 * await sync(group.members);
 * ```
 */
export function groupRoleSync(options: GroupRoleSyncOptions): (userIds: readonly string[]) => Promise<void> {
  const { store, scim, issuer, mapping, reporter, actor } = options;
  const users = store.users;

  async function syncOne(userId: string): Promise<void> {
    if (mapping === undefined || users === undefined) return;
    const role = roleFromGroups(await scim.groupsOf(issuer, userId), mapping);
    let source: 'scim' | 'default' = 'scim';
    let target = role;
    if (target === undefined) {
      const user = await store.getUser(userId);
      // Only a role SCIM gave is taken back; a provider's, a default or a local one stays.
      if (user === null || user.roleSource !== 'scim') return;
      target = options.defaultRole;
      source = 'default';
    }
    const data = { to: target, source };
    const result = await users.setRole(userId, target, {
      ...reporter.eventInput('user.role_changed', actor, data),
      source,
      keepLocal: true,
    });
    if (result.changed)
      await reporter.changed(result.user, 'user.role_changed', actor, { from: result.from, ...data });
  }

  return async (userIds) => {
    if (mapping === undefined) return;
    const queue = [...new Set(userIds)];
    const worker = async () => {
      for (let id = queue.pop(); id !== undefined; id = queue.pop()) await syncOne(id);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
  };
}
