import type { Identity, UserRecord } from './types';

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
   * `identity` in the same atomic step (same statement or transaction). Ignored when the row already
   * exists, and by stores without `outbox`.
   */
  emitEvent?: { identity: Identity } | undefined;
}

/** `pending`: waiting for (re)delivery; `done`: every hook succeeded; `failed`: gave up after max attempts. */
export type OutboxStatus = 'pending' | 'done' | 'failed';

/** A durable first-signup event. Its `id` is the idempotency key hooks receive as `eventId`. */
export interface OutboxEvent {
  id: string;
  type: 'user.provisioned';
  userId: string;
  identity: Identity;
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
  /** Undo a consume whose user creation failed. */
  unconsumeInvitation(id: string): Promise<void>;
  /** soft: revoke now (kept for audit); hard: delete. Returns false when there was no such invitation. */
  revokeInvitation(id: string, options: { soft: boolean }): Promise<boolean>;
  /** Delete invitations that expired (or were revoked/consumed) before `before`; returns how many. */
  purgeInvitations(before: Date): Promise<number>;
  listInvitations(filter: { status?: InvitationStatus; now: Date }): Promise<Invitation[]>;
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
  /**
   * Present on stores with a durable outbox. Such a store honours `NewUser.emitEvent` in `upsert` and
   * `confirm`: the event is written in the same atomic step as the user row, only when the row is created.
   */
  readonly outbox?: OutboxStore;
}
