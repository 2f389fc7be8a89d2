import type { ScimGroupRecord, ScimGroupWrite, ScimStore, ScimUserRecord, ScimUserWrite } from '../store';
import type { UserRecord } from '../types';

/**
 * Roles from directory groups (`@jit-provision/scim`'s `groups.roles`): a group's `displayName` or
 * `externalId` → an app role, bounded by `allow` (highest first: several matches pick the earliest listed).
 * Such a role is written with `roleSource: 'scim'`; a local grant (`roleSource: 'local'`) is never overwritten.
 */
export interface DirectoryRoleMapping {
  map: Readonly<Record<string, string>>;
  allow: readonly string[];
}

/** Options of {@link Provisioner.directory}. */
export interface DirectoryOptions {
  /** The issuer whose users this directory provisions (one of the provisioner's `issuers`). */
  issuer: string;
  /** What a SCIM DELETE does: `'disable'` (default: disable, revoke sessions, hide from SCIM) or `'delete'`. */
  onDelete?: 'disable' | 'delete';
  /** Roles from group memberships; without it, groups are stored and set no role. */
  groupRoles?: DirectoryRoleMapping;
  /** The event actor of every change (default `'scim'`). */
  actor?: string;
}

/**
 * The provisioner's writes on behalf of an identity provider's directory (SCIM): every one emits its lifecycle
 * events (actor `'scim'`), drops the user from every instance's cache, and keeps the one-row rule of decision
 * 0008. `@jit-provision/scim` speaks the wire protocol on top of it; reads go straight to `scim` (the store part).
 *
 * @example
 * ```ts
 * const directory = provisioner.directory({ issuer: 'https://login.microsoftonline.com/<tenant>/v2.0' });
 * const { record, created } = await directory.createUser({ userName: 'ada@example.com', externalId: 'oid-1', attributes: {}, email: 'ada@example.com', name: 'Ada' });
 * await directory.setActive(record.user.id, false); // disabled, sessions revoked, refused everywhere
 * ```
 */
export interface DirectoryProvisioning {
  readonly issuer: string;
  /** The store's SCIM part, for reads (`getUser`, `findUsers`, `getGroup`, `findGroups`, `status`). */
  readonly scim: ScimStore;
  /**
   * Create the user, or adopt the row a first login (or an earlier SCIM user hidden by DELETE) left with this
   * `externalId`: one row and one `user.provisioned` across racing callers. An adopted hidden row is
   * enabled again. `ScimConflictError` when another user has the `userName` or `externalId`.
   */
  createUser(write: ScimUserWrite): Promise<{ record: ScimUserRecord; created: boolean }>;
  /** Replace the SCIM attributes and the row's email and name; null when absent or hidden. */
  replaceUser(
    id: string,
    write: ScimUserWrite,
    options?: { ifVersion?: number | undefined },
  ): Promise<ScimUserRecord | null>;
  /**
   * `false`: disable and revoke every session (refused by every instance within the change feed's bound);
   * `true`: enable. Idempotent: no change, no event.
   */
  setActive(id: string, active: boolean): Promise<UserRecord>;
  /** SCIM DELETE as `onDelete` says; false when the user was absent or already hidden. */
  removeUser(id: string): Promise<boolean>;
  createGroup(write: ScimGroupWrite): Promise<ScimGroupRecord>;
  /** Replace a group (members included when given); roles of members that joined or left follow. */
  replaceGroup(
    id: string,
    write: ScimGroupWrite,
    options?: { ifVersion?: number | undefined },
  ): Promise<ScimGroupRecord | null>;
  /** Add and remove members atomically; roles of those members follow at once. Null when absent. */
  changeMembers(
    id: string,
    change: { add?: readonly string[]; remove?: readonly string[] },
  ): Promise<ScimGroupRecord | null>;
  /** Delete a group; its former members' roles follow. False when absent. */
  deleteGroup(id: string): Promise<boolean>;
}
