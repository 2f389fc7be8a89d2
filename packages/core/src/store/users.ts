import type { Identity, RoleSource, UserEventType, UserRecord, UserStatus } from '../types';
import type { OutboxEvent } from './outbox';

/** The identity key of a user: never email. */
export interface StoreKey {
  issuer: string;
  subject: string;
}

/** Everything a store needs to create (or sync) a user row. `role`, `roleSource` and `username` apply on create only. */
export interface NewUser extends StoreKey {
  username: string;
  role: string;
  /** Who decided `role` (default `'default'`). */
  roleSource?: RoleSource | undefined;
  email?: string | null | undefined;
  name?: string | null | undefined;
  tenantId?: string | null | undefined;
  /**
   * The identity's `externalIdClaim` value (decision 0008). Written on create; and when a row of this issuer
   * with this `externalId` exists but is unbound (created by SCIM before the first login, `subject: ''`),
   * `upsert` binds it instead of creating a row: sets its subject and username in the same atomic step and
   * answers it with `created: false` (SCIM announced it). A row already bound to another subject is left
   * alone and a new row is not created either: the store raises `ScimConflictError`('externalId').
   * Stores without the `scim` part ignore it.
   */
  externalId?: string | undefined;
  /**
   * Outbox mode: when this call creates the row, write a `user.provisioned` {@link OutboxEvent} carrying
   * `identity` (and `actor`, who created it: an admin's user id for `preProvision`, absent for a login) in the
   * same atomic step (same statement or transaction). Ignored when the row already exists, and by stores
   * without `outbox`.
   */
  emitEvent?: { identity: Identity; actor?: string | null | undefined } | undefined;
}

/** Profile fields synced on every login. `undefined` leaves a field as it is; `null` clears it. */
export interface UserPatch {
  email?: string | null | undefined;
  name?: string | null | undefined;
}

/**
 * A lifecycle event a {@link UserLifecycleStore} method writes to its outbox in the same atomic step as the
 * change, and only when the change happened (an idempotent no-op writes none). Stores without `outbox`
 * ignore it.
 */
export interface UserEventInput {
  type: UserEventType;
  actor: string | null;
  data?: Record<string, unknown> | undefined;
}

/** Options of every writing {@link UserLifecycleStore} method. */
export interface UserChangeOptions {
  /** Outbox mode: the event to write with the change (see {@link UserEventInput}). */
  event?: UserEventInput | undefined;
  /**
   * A role to keep at least one active holder of (`'admin'`): a change that would take the last active holder
   * away (`setRole` to another role, `setStatus` disabled, `delete`) raises `LastAdminError` and changes
   * nothing. A store that can make this atomic across processes does (store-postgres locks the active
   * holders); one that cannot ignores it, and the provisioner's in-process queue remains the only check.
   */
  keepAdmin?: string | undefined;
}

/** A filter and page of {@link UserLifecycleStore.list}; already validated by the provisioner. */
export interface UserListQuery {
  /**
   * Case-insensitive substring of email, name, username or subject. Taken literally: `%`, `_` and `\` match
   * themselves, never as wildcards.
   */
  query?: string | undefined;
  /** Exact role. */
  role?: string | undefined;
  status?: UserStatus | undefined;
  /** Dormant users: last seen before this instant, or never seen and created before it. */
  seenBefore?: Date | undefined;
  /** Page size, 1–500. */
  limit: number;
  /** `nextCursor` of the previous page; the store defines its content (opaque to callers). */
  cursor?: string | undefined;
}

/** One page of users, in the store's stable order; `nextCursor` is null on the last page. */
export interface UserPage {
  users: UserRecord[];
  nextCursor: string | null;
}

/**
 * User lifecycle and listing (`disable`, `enable`, `deleteUser`, `revokeSessions`, `listUsers`, `lastSeenAt`).
 * Every writing method raises `UserNotFoundError` for an unknown id and, on a store with `outbox`, writes
 * `options.event` atomically with the change. Prove an implementation with `runStoreConformance`.
 *
 * @example
 * ```ts
 * const { user, changed } = await store.users.setStatus(userId, 'disabled', {});
 * const page = await store.users.list({ query: 'ada', limit: 50 });
 * ```
 */
export interface UserLifecycleStore {
  /**
   * Set `status`; disabling sets `disabledAt` to now, enabling clears it. `changed` is false (and nothing is
   * written, no event either) when the user already had that status.
   */
  setStatus(
    userId: string,
    status: UserStatus,
    options?: UserChangeOptions,
  ): Promise<{ user: UserRecord; changed: boolean }>;
  /**
   * Set `role` and `roleSource` (`options.source`, default `'local'`), answering the role it replaced.
   * `changed` is true only when the role changed: only then is the event written, with `from` (the replaced
   * role) added to its `data`, read in the same atomic step. Nothing at all is written when role and source
   * are both unchanged. With `keepLocal` (a login's sync) a row whose `roleSource` is `'local'` is left
   * exactly as it is, decided in the same atomic step: a local grant is never overwritten by a login.
   */
  setRole(
    userId: string,
    role: string,
    options?: UserChangeOptions & { source?: RoleSource | undefined; keepLocal?: boolean | undefined },
  ): Promise<{ user: UserRecord; from: string; changed: boolean }>;
  /**
   * Set `tokensValidAfter` to now on the store's clock (every token issued before is refused), or to
   * `options.at` (a back-channel logout token's `iat`); a later `tokensValidAfter` already set stays.
   */
  revokeSessions(
    userId: string,
    options?: UserChangeOptions & { at?: Date | undefined },
  ): Promise<UserRecord>;
  /**
   * Erase the user row, answering it as it was; null (and no event) when there was none. Never touches the
   * user's outbox events: pending ones are still delivered.
   */
  delete(userId: string, options?: UserChangeOptions): Promise<UserRecord | null>;
  /** A page of users matching `query`, ordered by (`createdAt`, `id`); keyset paging, never OFFSET. */
  list(query: UserListQuery): Promise<UserPage>;
  /**
   * Record that the user was seen now (store clock). Best effort and frequent: touches nothing else
   * (`updatedAt` included) and is a no-op for an unknown id.
   */
  touchLastSeen(userId: string): Promise<void>;
}
