import {
  ScimConflictError,
  type ScimGroupRecord,
  type ScimPage,
  type ScimUserRecord,
  type UserRecord,
} from '@jit-provision/core';
import { copy, type UserTable } from '../table';

/** What SCIM keeps about a user row, beside the row itself (absent for a row SCIM never saw). */
export interface ScimUserState {
  userName: string;
  attributes: Record<string, unknown>;
  version: number;
  createdAt: Date;
  lastModified: Date;
  /** Hidden by a SCIM DELETE (`onDelete: 'disable'`): absent from every SCIM read until a re-create adopts it. */
  hidden: boolean;
}

/** A stored group; `members` holds user ids of the same issuer. */
export interface GroupState {
  id: string;
  issuer: string;
  displayName: string;
  externalId: string | null;
  attributes: Record<string, unknown>;
  members: Set<string>;
  version: number;
  createdAt: Date;
  lastModified: Date;
}

/** A visible SCIM user: the row and its SCIM side. */
export interface VisibleUser {
  user: UserRecord;
  scim: ScimUserState;
}

const issuerKey = (issuer: string, value: string) => `${issuer}\u0000${value}`;
/** userName is unique per issuer case-insensitively (RFC 7643 `caseExact: false`). */
const userNameKey = (issuer: string, userName: string) => issuerKey(issuer, userName.toLowerCase());

/**
 * The SCIM part's state and its indexes, shared by the users and groups halves. Every method runs without
 * yielding, so a check and the write that follows it are one atomic step.
 */
export function createScimState(table: UserTable) {
  const users = new Map<string, ScimUserState>();
  const groups = new Map<string, GroupState>();
  /** Visible SCIM users by (issuer, lower(userName)) → user id. */
  const userNames = new Map<string, string>();
  /** Groups by (issuer, displayName) → group id. */
  const displayNames = new Map<string, string>();

  const visible = (issuer: string, id: string): VisibleUser | undefined => {
    const user = table.byId.get(id);
    const scim = users.get(id);
    if (user === undefined || scim === undefined || scim.hidden || user.issuer !== issuer) return undefined;
    return { user, scim };
  };

  const dropFromGroups = (user: UserRecord) => {
    for (const group of groups.values()) if (group.issuer === user.issuer) group.members.delete(user.id);
  };

  const state = {
    table,
    users,
    groups,
    visible,

    /** `ScimConflictError`('userName') when a visible SCIM user of `issuer` other than `self` has it. */
    checkUserName(issuer: string, userName: string, self?: string) {
      const holder = userNames.get(userNameKey(issuer, userName));
      if (holder !== undefined && holder !== self) throw new ScimConflictError('userName');
    },

    /** Write the SCIM side of `user` (visible), keeping the userName index in step. */
    setUser(user: UserRecord, scim: ScimUserState) {
      const before = users.get(user.id);
      if (before !== undefined && !before.hidden) userNames.delete(userNameKey(user.issuer, before.userName));
      users.set(user.id, scim);
      if (!scim.hidden) userNames.set(userNameKey(user.issuer, scim.userName), user.id);
    },

    /** Hide a visible user from SCIM: out of the userName index and of every group. */
    hide({ user, scim }: VisibleUser) {
      userNames.delete(userNameKey(user.issuer, scim.userName));
      scim.hidden = true;
      scim.version += 1;
      scim.lastModified = new Date();
      dropFromGroups(user);
    },

    /** A row was erased (lifecycle delete): forget its SCIM side and memberships. */
    forget(user: UserRecord) {
      const scim = users.get(user.id);
      if (scim !== undefined && !scim.hidden) userNames.delete(userNameKey(user.issuer, scim.userName));
      users.delete(user.id);
      dropFromGroups(user);
    },

    /** `ScimConflictError`('displayName') when another group of `issuer` has it. */
    checkDisplayName(issuer: string, displayName: string, self?: string) {
      const holder = displayNames.get(issuerKey(issuer, displayName));
      if (holder !== undefined && holder !== self) throw new ScimConflictError('displayName');
    },

    indexGroup(group: GroupState, previousName?: string) {
      if (previousName !== undefined) displayNames.delete(issuerKey(group.issuer, previousName));
      displayNames.set(issuerKey(group.issuer, group.displayName), group.id);
    },

    unindexGroup(group: GroupState) {
      displayNames.delete(issuerKey(group.issuer, group.displayName));
    },

    clear() {
      users.clear();
      groups.clear();
      userNames.clear();
      displayNames.clear();
    },
  };
  return state;
}

export type ScimState = ReturnType<typeof createScimState>;

/** A copy of a visible user for callers: mutating it never changes what is stored. */
export const userRecord = ({ user, scim }: VisibleUser): ScimUserRecord => ({
  user: copy(user),
  userName: scim.userName,
  attributes: structuredClone(scim.attributes),
  version: scim.version,
  createdAt: new Date(scim.createdAt),
  lastModified: new Date(scim.lastModified),
});

/** A copy of a group for callers; members are only visible SCIM users of its issuer. */
export const groupRecord = (state: ScimState, group: GroupState): ScimGroupRecord => ({
  id: group.id,
  issuer: group.issuer,
  displayName: group.displayName,
  externalId: group.externalId,
  attributes: structuredClone(group.attributes),
  members: [...group.members].filter((id) => state.visible(group.issuer, id) !== undefined),
  version: group.version,
  createdAt: new Date(group.createdAt),
  lastModified: new Date(group.lastModified),
});

/** The stable order of every SCIM listing: (createdAt, id). */
export const byCreation = (a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }): number =>
  a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** One page by SCIM's 1-based `startIndex`; `count` 0 answers only the total. */
export function page<T, R>(
  matches: T[],
  query: { startIndex: number; count: number },
  map: (item: T) => R,
): ScimPage<R> {
  const start = Math.max(1, Math.floor(query.startIndex)) - 1;
  const count = Math.max(0, Math.floor(query.count));
  return { totalResults: matches.length, resources: matches.slice(start, start + count).map(map) };
}
