import type { Identity, RoleSource, UserRecord } from '../types';
import type { StoreKey, UserEventInput } from './users';

// The SCIM part of the Store contract (decision 0008). `@jit-provision/scim` speaks the wire protocol; a store
// keeps what it writes and answers the filters it parses. Filters reach the store as the tree below, already
// validated against the attributes the store keeps, so a store translates them to parameterised queries (or
// index reads) and never concatenates a value into a statement.

/** A comparison of a SCIM filter (RFC 7644 §3.4.2.2). `pr` (present) has no value. */
export type ScimCompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** The User attributes a filter may name: what every store with a `scim` part keeps queryable. */
export type ScimUserFilterAttribute =
  | 'id'
  | 'userName'
  | 'externalId'
  | 'displayName'
  | 'active'
  | 'name.givenName'
  | 'name.familyName'
  | 'name.formatted'
  | 'meta.created'
  | 'meta.lastModified';

/** The attributes of one element of a multi-valued attribute (`emails[type eq "work"]`, `members[value eq "…"]`). */
export type ScimElementFilterAttribute = 'value' | 'type' | 'primary' | 'display';

/** The Group attributes a filter may name. */
export type ScimGroupFilterAttribute =
  | 'id'
  | 'displayName'
  | 'externalId'
  | 'meta.created'
  | 'meta.lastModified';

/** The multi-valued attributes a value path may name: a user's `emails`, a group's `members`. */
export type ScimMultiValued = 'emails' | 'members';

/**
 * A parsed SCIM filter over attributes of type `A`. `value` is the literal as the client wrote it: a string
 * (dates stay ISO strings: the store compares them as instants), a number, a boolean or null.
 * `some` is a value path (`emails[type eq "work" and value co "@example.com"]`): true when one element of the
 * multi-valued attribute matches `filter`. `emails.value eq "x"` arrives as `some` over `emails` too.
 *
 * Case: `userName` (and every string attribute whose schema says `caseExact: false`, all of the above but
 * `id`, `externalId` and `members.value`) compares case-insensitively; the others exactly (RFC 7643 §2.2).
 */
export type ScimFilter<A extends string = ScimUserFilterAttribute | ScimGroupFilterAttribute> =
  | { op: ScimCompareOp; attribute: A; value: string | number | boolean | null }
  | { op: 'pr'; attribute: A }
  | { op: 'and' | 'or'; left: ScimFilter<A>; right: ScimFilter<A> }
  | { op: 'not'; filter: ScimFilter<A> }
  | { op: 'some'; attribute: ScimMultiValued; filter: ScimFilter<ScimElementFilterAttribute> };

/** A page by SCIM's 1-based index (RFC 7644 §3.4.2.4); `count` already capped by the caller. */
export interface ScimPageQuery<A extends string> {
  filter?: ScimFilter<A> | undefined;
  /** 1-based; values below 1 are taken as 1 by the caller. */
  startIndex: number;
  /** 0 answers only `totalResults`. */
  count: number;
}

/** One page: `totalResults` counts every match, `resources` holds at most `count`, in the store's stable order. */
export interface ScimPage<R> {
  totalResults: number;
  resources: R[];
}

/**
 * The SCIM side of a user row: the row itself plus the resource as the provider wrote it. `attributes` is
 * the JSON the provider sent minus `id`, `meta`, `schemas` and `password` (never stored), kept as written so a
 * GET answers what was PUT; the store also keeps the filterable ones in their own columns.
 */
export interface ScimUserRecord {
  user: UserRecord;
  userName: string;
  /** The resource's other attributes (`name`, `displayName`, `emails`, the enterprise extension, …). */
  attributes: Readonly<Record<string, unknown>>;
  /** Bumped by every SCIM write: the ETag is `W/"<version>"`. */
  version: number;
  /** When SCIM first saw the row (`meta.created`), and its last SCIM write (`meta.lastModified`). */
  createdAt: Date;
  lastModified: Date;
}

/** What a SCIM create or replace writes. */
export interface ScimUserWrite {
  userName: string;
  externalId: string | null;
  attributes: Readonly<Record<string, unknown>>;
  /** The profile of the row, derived by the caller from `attributes` (primary email, display name). */
  email: string | null;
  name: string | null;
}

/** A SCIM create: the identity's issuer, and what a new row needs. */
export interface ScimNewUser extends ScimUserWrite {
  issuer: string;
  /**
   * The subject when it is known now (the issuer's `externalIdClaim` is `sub`, as with Okta); otherwise the row
   * waits unbound (`subject: ''`) until the first login whose `externalIdClaim` equals `externalId` binds it.
   */
  subject: string | null;
  /** The username of a row created now (the caller derives it). */
  username: string;
  role: string;
  roleSource?: RoleSource | undefined;
  /** Outbox mode: the `user.provisioned` event, written atomically and only when a row is created. */
  emitEvent?: { identity: Identity; actor?: string | null | undefined } | undefined;
}

/** A SCIM Group as stored: members are user ids of the same issuer. */
export interface ScimGroupRecord {
  id: string;
  issuer: string;
  displayName: string;
  externalId: string | null;
  attributes: Readonly<Record<string, unknown>>;
  members: readonly string[];
  version: number;
  createdAt: Date;
  lastModified: Date;
}

/** What a group create or replace writes; `members` replaces the whole membership when given. */
export interface ScimGroupWrite {
  displayName: string;
  externalId: string | null;
  attributes: Readonly<Record<string, unknown>>;
  members?: readonly string[] | undefined;
}

/** Raised by a store (as `ScimConflictError`, 409 `scim_conflict`) when a write would duplicate a unique value. */
export type ScimUniqueAttribute = 'userName' | 'externalId' | 'displayName';

/**
 * What `@jit-provision/scim` needs from a store: users by `externalId` and `userName`, groups and
 * memberships, the SCIM attributes kept as written, filter queries and index paging, all scoped by issuer.
 * Prove an implementation with the `scim` cases of `runStoreConformance`.
 *
 * A user hidden by a SCIM DELETE (`onDelete: 'disable'`) is absent from every read here, and `createUser`
 * with its `externalId` re-activates it (the same row and id) instead of creating a second one.
 *
 * @example
 * ```ts
 * const { record, created } = await store.scim.createUser(input);
 * const page = await store.scim.findUsers(issuer, { filter: { op: 'eq', attribute: 'userName', value: 'Ada@Example.com' }, startIndex: 1, count: 100 });
 * ```
 */
export interface ScimStore {
  /**
   * Create a SCIM user, exactly once across racing callers and processes. When a row of `issuer` already has
   * `externalId` (a first login came first, or the row was hidden by a SCIM DELETE), that row is adopted:
   * SCIM attributes written, hidden flag cleared, `created: false`. Raises `ScimConflictError` when another
   * visible SCIM user of `issuer` has this `userName` (case-insensitively) or `externalId`. The other way round,
   * a login's `upsert` whose `NewUser.externalId` matches an unbound row binds that row (see `NewUser`).
   */
  createUser(input: ScimNewUser): Promise<{ record: ScimUserRecord; created: boolean }>;
  /**
   * A first login's bind (decision 0008): the row of `issuer` whose `externalId` equals the login's, when it
   * is unbound (`subject: ''`), gets `subject` and `username` in one atomic step and is answered; a row already
   * bound to this `subject` is answered as it is; null when there is none (or it is bound to another subject).
   * Hidden rows are bound too: they are disabled, and the login is refused as any disabled user's.
   */
  bind(key: StoreKey & { externalId: string; username: string }): Promise<UserRecord | null>;
  /** A visible SCIM user of `issuer` by id; null when absent, hidden or never seen by SCIM. */
  getUser(issuer: string, id: string): Promise<ScimUserRecord | null>;
  findUsers(issuer: string, query: ScimPageQuery<ScimUserFilterAttribute>): Promise<ScimPage<ScimUserRecord>>;
  /**
   * Replace the SCIM attributes (and the row's email and name). `ifVersion` makes it conditional (If-Match):
   * null is answered when the user is absent; a version mismatch raises `ScimConflictError`('version').
   */
  replaceUser(
    issuer: string,
    id: string,
    write: ScimUserWrite,
    options?: { ifVersion?: number | undefined; event?: UserEventInput | undefined },
  ): Promise<ScimUserRecord | null>;
  /** Hide the user from SCIM (`onDelete: 'disable'`); false when it was absent or already hidden. */
  hideUser(issuer: string, id: string): Promise<boolean>;
  createGroup(issuer: string, write: ScimGroupWrite): Promise<ScimGroupRecord>;
  getGroup(issuer: string, id: string): Promise<ScimGroupRecord | null>;
  findGroups(
    issuer: string,
    query: ScimPageQuery<ScimGroupFilterAttribute>,
  ): Promise<ScimPage<ScimGroupRecord>>;
  replaceGroup(
    issuer: string,
    id: string,
    write: ScimGroupWrite,
    options?: { ifVersion?: number | undefined },
  ): Promise<ScimGroupRecord | null>;
  /** Add and remove members in one atomic step (unknown user ids are ignored); null when the group is absent. */
  changeMembers(
    issuer: string,
    id: string,
    change: { add?: readonly string[]; remove?: readonly string[] },
  ): Promise<ScimGroupRecord | null>;
  /** Delete a group and its memberships; false when it was absent. */
  deleteGroup(issuer: string, id: string): Promise<boolean>;
  /** The groups a user is a member of (for roles from groups). */
  groupsOf(issuer: string, userId: string): Promise<ScimGroupRecord[]>;
  /** For `jit-provision scim status`: counts and the last SCIM write, per issuer (all issuers when omitted). */
  status(issuer?: string): Promise<{ users: number; groups: number; lastWrite: Date | null }>;
}
