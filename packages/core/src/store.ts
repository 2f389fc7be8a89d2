import type { Identity, UserEventType, UserRecord, UserStatus } from './types';

/** The identity key of a user: never email. */
export interface StoreKey {
  issuer: string;
  subject: string;
}

/** Everything a store needs to create (or sync) a user row. `role` and `username` apply on create only. */
export interface NewUser extends StoreKey {
  username: string;
  role: string;
  email?: string | null | undefined;
  name?: string | null | undefined;
  tenantId?: string | null | undefined;
  /**
   * Outbox mode: when this call creates the row, write a `user.provisioned` {@link OutboxEvent} carrying
   * `identity` (and `actor`, who created it: an admin's user id for `preProvision`, absent for a login) in the
   * same atomic step (same statement or transaction). Ignored when the row already exists, and by stores
   * without `outbox`.
   */
  emitEvent?: { identity: Identity; actor?: string | null | undefined } | undefined;
}

/** `pending`: waiting for (re)delivery; `done`: every hook succeeded; `failed`: gave up after max attempts. */
export type OutboxStatus = 'pending' | 'done' | 'failed';

/**
 * A durable user event: a first signup, or a lifecycle change written by a {@link UserLifecycleStore}
 * method. Its `id` is the idempotency key hooks receive as `eventId`.
 */
export interface OutboxEvent {
  id: string;
  type: UserEventType;
  userId: string;
  /** The login's identity (`user.provisioned`), or the user's `{ issuer, subject }` (lifecycle events). */
  identity: Identity;
  /** Who made a lifecycle change (`UserEventInput.actor`); null for logins. */
  actor: string | null;
  /** The event's `data` (e.g. `{ from, to, source }` of a role change); null when it has none. */
  data: Record<string, unknown> | null;
  status: OutboxStatus;
  /** Deliveries started so far; `claim` increments it. */
  attempts: number;
  lastError: string | null;
  /** Not claimed before this: the retry time, or the end of the current claim's lease. */
  availableAt: Date;
  createdAt: Date;
  /** When it became `done` or `failed`. */
  completedAt: Date | null;
}

/**
 * Durable side-effect events written atomically with the user row (see `NewUser.emitEvent`), delivered by
 * `createOutboxDispatcher`. Several dispatchers may share one outbox: `claim` never hands one event to
 * two live claims (Postgres: `FOR UPDATE SKIP LOCKED`).
 */
export interface OutboxStore {
  /**
   * Take up to `limit` pending events whose `availableAt` has passed, oldest first: increments their
   * `attempts` and hides them for `leaseMs` (so a crashed claimer's events come back by themselves).
   */
  claim(options: { limit: number; leaseMs: number }): Promise<OutboxEvent[]>;
  /** Mark delivered (`done`). A no-op for an event that is no longer pending. */
  complete(id: string): Promise<void>;
  /**
   * Record a failed delivery of a pending event: retry at `retryAt`, or with `retryAt: null` mark it
   * `failed` (kept, visible to `list`). A no-op for an event that is no longer pending.
   */
  fail(id: string, outcome: { error: string; retryAt: Date | null }): Promise<void>;
  /**
   * Deliver an event again (an operator's retry): a `failed` or `done` event becomes `pending`, due now,
   * with `attempts` back at 0 so it gets a whole new round of deliveries; a `pending` one is left as it
   * is (it is due or claimed already). False when there is no such event. Optional: stores written before
   * it may lack it.
   */
  retry?(id: string): Promise<boolean>;
  /**
   * Events, oldest first, optionally by status and by user (default limit 100). `userIds` lets a caller find
   * its own events in a long-lived table, where the oldest `limit` rows are someone else's.
   */
  list(filter?: {
    status?: OutboxStatus;
    userIds?: readonly string[];
    limit?: number;
  }): Promise<OutboxEvent[]>;
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
   * Set `role`, answering the role it replaced. Nothing is written (no event) when it is unchanged; the event
   * written gets `from` (the replaced role) added to its `data`, read in the same atomic step.
   */
  setRole(
    userId: string,
    role: string,
    options?: UserChangeOptions,
  ): Promise<{ user: UserRecord; from: string; changed: boolean }>;
  /** Set `tokensValidAfter` to now on the store's clock (every token issued before is refused). */
  revokeSessions(userId: string, options?: UserChangeOptions): Promise<UserRecord>;
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

/** Profile fields synced on every login. `undefined` leaves a field as it is; `null` clears it. */
export interface UserPatch {
  email?: string | null | undefined;
  name?: string | null | undefined;
}

/** A pending claim on an identity in createUser mode. `token` identifies the holder; a takeover changes it. */
export interface Reservation {
  token: string;
  expiresAt: Date;
}

/**
 * Reservations of identities, for createUser mode: reserve → the app creates the user → confirm.
 * Prove an implementation with the reservation tests of `runStoreConformance`.
 */
export interface ReservationStore {
  /**
   * Claim an identity for `leaseMs`. Raises `ReservationConflictError` while another live reservation
   * holds it; an expired one is taken over atomically (its token changes).
   */
  reserve(key: StoreKey, options: { leaseMs: number }): Promise<Reservation>;
  /**
   * Create the user row with the app's `userId` and drop the reservation, atomically.
   * Raises `ReservationConflictError` when `reservation` is no longer the current one (stale).
   */
  confirm(input: NewUser, reservation: Reservation, userId: string): Promise<UserRecord>;
  /** Drop the reservation if it is still ours; a no-op otherwise. */
  release(key: StoreKey, reservation: Reservation): Promise<void>;
}

/** Invitation row as stored: only the HMAC of the token, never the token. */
export interface Invitation {
  id: string;
  email: string;
  role: string;
  invitedBy: string;
  createdAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
  revokedAt: Date | null;
}

/** Where an invitation stands: only `pending` ones can be consumed. */
export type InvitationStatus = 'pending' | 'consumed' | 'revoked' | 'expired';

/** What `InvitationStore.createInvitation` stores: the token's HMAC (`tokenHash`), never the token. */
export interface NewInvitation {
  id: string;
  tokenHash: string;
  email: string;
  role: string;
  invitedBy: string;
  expiresAt: Date;
}

/** Storage for invitations; `createInvitationService` drives it. */
export interface InvitationStore {
  /** Insert, replacing (revoking) any pending invitation for the same normalised email, atomically. */
  createInvitation(input: NewInvitation): Promise<Invitation>;
  /** Find by any of the token hashes (several while a secret rotates). */
  findInvitation(tokenHashes: readonly string[]): Promise<Invitation | null>;
  /** The pending (unconsumed, unrevoked, `expiresAt > now`) invitation for a normalised email, if any. */
  findPendingInvitationByEmail(email: string, now: Date): Promise<Invitation | null>;
  /**
   * Mark consumed iff still pending and unexpired at `now`: exactly one of any number of racing callers
   * gets the invitation back, the rest get null.
   */
  consumeInvitation(id: string, now: Date): Promise<Invitation | null>;
  /**
   * Undo a consume whose user creation failed, atomically and only if it is still that consume's: the row
   * is not revoked, its `consumed_at` equals `consumedAt` (the value the undone `consumeInvitation` set),
   * and no other invitation for the same email was created since this one (a re-invite replaced it).
   * Otherwise nothing changes, so "at most one pending invitation per email" holds under every
   * interleaving: an invitation re-issued while a slow first login held the old one never brings the old
   * one (and its role) back. Resolves true when the invitation is pending again. Must be atomic with
   * `createInvitation` (store-postgres: the same per-email advisory lock).
   */
  unconsumeInvitation(id: string, consumedAt: Date): Promise<boolean>;
  /** soft: revoke now (kept for audit); hard: delete. Returns false when there was no such invitation. */
  revokeInvitation(id: string, options: { soft: boolean }): Promise<boolean>;
  /** Delete invitations that expired (or were revoked/consumed) before `before`; returns how many. */
  purgeInvitations(before: Date): Promise<number>;
  listInvitations(filter: { status?: InvitationStatus; now: Date }): Promise<Invitation[]>;
}

/** What a store's own {@link Store.check} found: whether it can serve, and a sentence saying why. */
export interface StoreCheckResult {
  ok: boolean;
  /** For a person reading start-up logs, e.g. `schema "jit_provision" at version 2 (current)`. */
  detail: string;
}

/** One changed (or deleted) user, as a {@link UserChangeFeed} reports it: the row's id and identity key before the change. */
export interface UserChange {
  userId: string;
  issuer: string;
  subject: string;
}

/**
 * Health of a {@link UserChangeFeed} subscription.
 * - `'up'`: from now on every change is reported. Changes before this moment may have been missed, so a
 *   subscriber drops everything it derived from earlier reads (a user cache clears itself). A feed may
 *   report `'up'` again while up to say "I lost track of some changes, resync" (store-postgres does so for a
 *   notification too large to carry its key).
 * - `'down'`: changes may be missed from now on (connection lost, heartbeat late, feed closed), until the
 *   next `'up'`. A user cache is bypassed meanwhile.
 */
export type UserChangeStatus = 'up' | 'down';

/** Options of {@link UserChangeFeed.subscribe}. */
export interface UserChangeSubscribeOptions {
  /**
   * Called whenever the feed's health changes (see {@link UserChangeStatus}); may be called before
   * `subscribe` resolves. A feed that never calls it is taken to be up once `subscribe` resolves.
   */
  onStatus?: (status: UserChangeStatus) => void;
}

/**
 * Push notifications of user changes, so every process's user cache drops a changed user at once instead
 * of serving it until its TTL. Reports every change of an existing user — role, profile, status, deletion,
 * whoever made it (this process, another one, a hand-written SQL statement) — by id and (issuer, subject).
 * Creations need no report: nothing is cached for a user that did not exist.
 *
 * A feed must tell its subscribers when it cannot vouch for delivery (`onStatus('down')`) as soon as it
 * knows, and `'up'` once it can again: the provisioner bypasses its user cache in between, which is what
 * keeps staleness bounded during an outage.
 *
 * @example
 * ```ts
 * const unsubscribe = await store.changes?.subscribe(
 *   ({ userId }) => console.log('changed', userId),
 *   { onStatus: (status) => console.log('feed', status) },
 * );
 * await unsubscribe?.();
 * ```
 */
export interface UserChangeFeed {
  /**
   * Start receiving changes. Resolves once the listener is registered (whether or not the feed is up yet:
   * `onStatus` says), with a function that stops delivery to it. Rejects only when the feed can never work
   * (e.g. misconfigured); connection trouble is reported through `onStatus` and retried by the feed.
   * The listener runs synchronously in the feed's delivery and must not throw.
   */
  subscribe(
    listener: (change: UserChange) => void,
    options?: UserChangeSubscribeOptions,
  ): Promise<() => Promise<void>>;
}

/**
 * Where users live. Implement it for your database and prove it with `runStoreConformance`
 * from `@jit-provision/core/testing`.
 *
 * Every method raises `StoreUnavailableError` when the backend cannot be reached, never a driver error.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from '@jit-provision/store-memory';
 * const provisioner = createProvisioner({ store: createMemoryStore(), issuers });
 * ```
 */
export interface Store {
  /** Fast path: one indexed read by (issuer, subject). */
  lookup(key: StoreKey): Promise<UserRecord | null>;
  /**
   * Atomic create-if-absent. `created` is true for exactly one of any number of racing callers,
   * every caller gets the row; an existing row gets email/name synced when they are given and differ.
   */
  upsert(input: NewUser): Promise<{ user: UserRecord; created: boolean }>;
  /** Write changed profile fields of an existing user; returns the row as stored. */
  sync(userId: string, patch: UserPatch): Promise<UserRecord>;
  getUser(userId: string): Promise<UserRecord | null>;
  /** Raises `UserNotFoundError` for an unknown id. */
  setRole(userId: string, role: string): Promise<UserRecord>;
  /** Present on stores that support createUser mode (`createProvisioner({ createUser })` needs it). */
  readonly reservations?: ReservationStore;
  /** Present on stores that support invitations. */
  readonly invitations?: InvitationStore;
  /** Present on stores that support the user lifecycle and listing (`provisioner.disable`, `listUsers`, …). */
  readonly users?: UserLifecycleStore;
  /**
   * Optional readiness check for `provisioner.check()`: can this store serve, is its schema migrated?
   * Answers a result rather than throwing; an unreachable backend is `ok: false` with a detail.
   */
  check?(): Promise<StoreCheckResult>;
  /**
   * Present on stores with a durable outbox. Such a store honours `NewUser.emitEvent` in `upsert` and
   * `confirm`: the event is written in the same atomic step as the user row, only when the row is created.
   */
  readonly outbox?: OutboxStore;
  /** Present on stores that push user changes; every provisioner with a user cache subscribes to it. */
  readonly changes?: UserChangeFeed;
}
