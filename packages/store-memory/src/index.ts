import { randomUUID } from 'node:crypto';
import type {
  LogoutStore,
  OutboxStore,
  ReservationStore,
  ScimStore,
  Store,
  UserChangeFeed,
  UserLifecycleStore,
} from '@jit-provision/core';
import { userKey as keyOf, profileChanges } from '@jit-provision/core/adapter';
import { createMemoryChangeFeed } from './changes';
import { createMemoryInvitationStore } from './invitations';
import { createMemoryLogout } from './logout';
import { createMemoryOutbox } from './outbox';
import { createMemoryReservations } from './reservations';
import { createMemoryScim } from './scim';
import { bindByExternalId, copy, createRowSnapshots, createUserTable } from './table';
import { createMemoryUserLifecycle } from './users';

export { createMemoryInvitationStore } from './invitations';
export { createMemoryOutbox, type MemoryOutbox } from './outbox';

/** A Store that keeps everything in this process. Also exposes `clear()` for tests. */
export interface MemoryStore extends Store {
  /** In-process outbox: retries and backoff, but events do not survive the process. */
  readonly outbox: OutboxStore;
  /** Reservations for createUser mode. */
  readonly reservations: ReservationStore;
  /**
   * In-process change feed: every write that changes an existing user reports it to the subscribers
   * synchronously, before the write resolves; `clear()` tells them to resync. Always up.
   */
  readonly changes: UserChangeFeed;
  /** Lifecycle and listing. */
  readonly users: UserLifecycleStore;
  /** Back-channel logout: logout-token replay guard and revoked sessions (bounded; reported on `changes`). */
  readonly logout: LogoutStore;
  /**
   * SCIM users and groups (`@jit-provision/scim`): the SCIM attributes kept as written, filters evaluated
   * in process (this store has no query engine to hand them to), `externalId` unique per issuer.
   */
  readonly scim: ScimStore;
  /** Drop every user, reservation, invitation, outbox event and SCIM group. */
  clear(): void;
}

/**
 * An in-process Store: for development, tests and single-process apps. Every method completes without
 * yielding between its read and its write, which is what makes create-if-absent and reservations atomic here.
 * Data lives as long as the process; use `@jit-provision/store-postgres` when several processes serve the app.
 *
 * @example
 * ```ts
 * import { createProvisioner } from '@jit-provision/core';
 * import { createMemoryStore } from '@jit-provision/store-memory';
 *
 * const provisioner = createProvisioner({ store: createMemoryStore(), issuers: [{ issuer: 'https://idp.example.com' }] });
 * ```
 */
export function createMemoryStore(): MemoryStore {
  const invitations = createMemoryInvitationStore();
  const outbox = createMemoryOutbox();
  // Every mutation of an existing user reports through here, so every subscriber drops it before the write resolves.
  const changes = createMemoryChangeFeed();
  const snapshots = createRowSnapshots(changes.changed);
  const table = createUserTable(outbox, snapshots);
  const reservations = createMemoryReservations(table);
  const users = createMemoryUserLifecycle(table, outbox, snapshots);
  const logout = createMemoryLogout(changes.sessionRevoked);
  const scim = createMemoryScim(table, outbox);

  return {
    invitations,
    outbox,
    reservations: reservations.store,
    changes: changes.feed,
    users,
    logout: logout.store,
    scim: scim.store,
    // A lookup is a Map read: the provisioner skips its single flight for it.
    inProcess: true,

    // Frozen and shared until the row changes: every login of a user reads the same snapshot.
    async lookup(key) {
      const user = table.byKey.get(keyOf(key));
      return user === undefined ? null : snapshots.snapshot(user);
    },

    async upsert(input) {
      const existing = table.byKey.get(keyOf(input)) ?? bindByExternalId(table, input);
      if (existing !== undefined) {
        const patch = profileChanges(existing, input);
        return {
          user: copy(patch === undefined ? existing : table.applyPatch(existing, patch)),
          created: false,
        };
      }
      return { user: copy(table.insert(input, randomUUID())), created: true };
    },

    async sync(userId, patch) {
      return copy(table.applyPatch(table.existing(userId), patch));
    },

    async getUser(userId) {
      const user = table.byId.get(userId);
      return user === undefined ? null : copy(user);
    },

    async setRole(userId, role, source) {
      return (await users.setRole(userId, role, { source })).user;
    },

    // Nothing to migrate or reach: always ready.
    check: async () => ({ ok: true, detail: 'in-memory store: nothing to check' }),
    clear() {
      table.clear();
      reservations.clear();
      invitations.clear();
      outbox.clear();
      logout.clear();
      scim.clear();
      changes.resync();
    },
  };
}
