import type { RoleSource, UserRecord } from '../types';
import type { UserChangeFeed } from './changes';
import type { InvitationStore } from './invitations';
import type { LogoutStore } from './logout';
import type { OutboxStore } from './outbox';
import type { ReservationStore } from './reservations';
import type { ScimStore } from './scim';
import type { NewUser, StoreKey, UserLifecycleStore, UserPatch } from './users';

/** What a store's own {@link Store.check} found: whether it can serve, and a sentence saying why. */
export interface StoreCheckResult {
  ok: boolean;
  /** For a person reading start-up logs, e.g. `schema "jit_provision" at version 2 (current)`. */
  detail: string;
}

/**
 * Where users live. Implement it for your database and prove it with `runStoreConformance`
 * from `@jit-provision/testing`.
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
  /**
   * Optional: a login's lookup and create-if-absent in one atomic step (one round trip on a database). The
   * row of `input`'s (issuer, subject) exactly as stored, with `created: false` (no profile sync: the caller
   * syncs what differs); else the row created from `input` (and its `emitEvent` outbox event, in the same
   * atomic step) with `created: true`. Exactly one of any number of racing callers, in any process, gets
   * `created: true`; every caller gets the row. The provisioner calls it instead of `lookup` on a cache miss
   * only when a creation needs no gate (`autoCreate` on, no policies, no `createUser`, no `externalId` on the
   * identity), so `input.externalId` is never given; without it, the provisioner does `lookup`, then `upsert`.
   * A row it creates is a login's: a store may set its `lastSeenAt` to its creation time (store-postgres
   * does), sparing the provisioner's `lastSeen` a second write.
   *
   * @example
   * ```ts
   * const { user, created } = await store.lookupOrCreate({ issuer, subject, username: 'oidc:acme:f81d4fae', role: 'user' });
   * ```
   */
  lookupOrCreate?(input: NewUser): Promise<{ user: UserRecord; created: boolean }>;
  /** Write changed profile fields of an existing user; returns the row as stored. */
  sync(userId: string, patch: UserPatch): Promise<UserRecord>;
  getUser(userId: string): Promise<UserRecord | null>;
  /** Sets `role` and `roleSource` (`source`, default `'local'`). Raises `UserNotFoundError` for an unknown id. */
  setRole(userId: string, role: string, source?: RoleSource): Promise<UserRecord>;
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
  /** Present on stores that support back-channel logout (`backchannelLogout` needs it). */
  readonly logout?: LogoutStore;
  /** Present on stores that keep SCIM users and groups (`scimServer` from `@jit-provision/scim` needs it). */
  readonly scim?: ScimStore;
  /**
   * True when `lookup` answers from this process's memory, with no I/O (store-memory). The provisioner then
   * looks such a store up without its single flight, which only pays for a round trip (a lookup that misses
   * still takes the flight to the slow path). Leave it unset for a store that reads a database.
   */
  readonly inProcess?: boolean;
}
