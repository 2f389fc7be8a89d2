import { randomUUID } from 'node:crypto';
import {
  InvalidArgumentError,
  type NewUser,
  type OutboxStore,
  type Reservation,
  ReservationConflictError,
  type ReservationStore,
  type Store,
  type UserChange,
  type UserChangeFeed,
  type UserChangeOptions,
  type UserChangeStatus,
  type UserLifecycleStore,
  UserNotFoundError,
  type UserPatch,
  type UserRecord,
} from '@jit-provision/core';
import { userKey as keyOf, profileChanges } from '@jit-provision/core/adapter';
import { createMemoryInvitationStore } from './invitations';
import { createMemoryOutbox } from './outbox';

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
  /** Drop every user, reservation, invitation and outbox event. */
  clear(): void;
}

// Callers get copies, so mutating a returned record never changes what is stored.
const date = (value: Date | null) => (value === null ? null : new Date(value));
const copy = (user: UserRecord): UserRecord => ({
  ...user,
  createdAt: new Date(user.createdAt),
  updatedAt: new Date(user.updatedAt),
  disabledAt: date(user.disabledAt),
  tokensValidAfter: date(user.tokensValidAfter),
  lastSeenAt: date(user.lastSeenAt),
});

/** Keyset cursor: the (createdAt, id) of a page's last row. */
const encodeCursor = (user: UserRecord) =>
  Buffer.from(JSON.stringify([user.createdAt.getTime(), user.id])).toString('base64url');
function decodeCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && Number.isFinite(value[0]) && typeof value[1] === 'string')
      return [value[0], value[1]];
  } catch {}
  throw new InvalidArgumentError('cursor', 'cursor is not one this store issued');
}

/** (createdAt, id) order: the listing's stable order. */
const byCreation = (a: UserRecord, b: UserRecord) =>
  a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

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
  const byKey = new Map<string, UserRecord>();
  const byId = new Map<string, UserRecord>();
  const usernames = new Set<string>();
  const reservations = new Map<string, Reservation>();
  const invitations = createMemoryInvitationStore();
  const outbox = createMemoryOutbox();
  const subscribers = new Set<{
    listener: (change: UserChange) => void;
    onStatus: ((status: UserChangeStatus) => void) | undefined;
  }>();

  // Every mutation of an existing user goes through here, so every subscriber drops it before the write resolves.
  function changed(user: UserRecord): void {
    const change: UserChange = { userId: user.id, issuer: user.issuer, subject: user.subject };
    for (const { listener } of subscribers) {
      try {
        listener(change);
      } catch {
        // One subscriber's failure must not fail the write or starve the others.
      }
    }
  }

  const changes: UserChangeFeed = {
    async subscribe(listener, options = {}) {
      const subscriber = { listener, onStatus: options.onStatus };
      subscribers.add(subscriber);
      subscriber.onStatus?.('up');
      return async () => {
        subscribers.delete(subscriber);
      };
    },
  };

  function insert(input: NewUser, id: string): UserRecord {
    if (byId.has(id)) throw new ReservationConflictError('the user id is already taken');
    if (usernames.has(input.username))
      throw new ReservationConflictError('the username belongs to another identity');
    const now = new Date();
    const user: UserRecord = {
      id,
      issuer: input.issuer,
      subject: input.subject,
      username: input.username,
      email: input.email ?? null,
      name: input.name ?? null,
      role: input.role,
      tenantId: input.tenantId ?? null,
      createdAt: now,
      updatedAt: now,
      status: 'active',
      disabledAt: null,
      tokensValidAfter: null,
      lastSeenAt: null,
    };
    byKey.set(keyOf(input), user);
    byId.set(id, user);
    usernames.add(input.username);
    // Same synchronous step as the insert: the event exists iff the user was created.
    if (input.emitEvent !== undefined) {
      const { identity, actor } = input.emitEvent;
      outbox.add(id, identity, { type: 'user.provisioned', actor: actor ?? null });
    }
    return user;
  }

  function applyPatch(user: UserRecord, patch: UserPatch): UserRecord {
    let dirty = false;
    if (patch.email !== undefined && patch.email !== user.email) {
      user.email = patch.email;
      dirty = true;
    }
    if (patch.name !== undefined && patch.name !== user.name) {
      user.name = patch.name;
      dirty = true;
    }
    if (dirty) {
      user.updatedAt = new Date();
      changed(user);
    }
    return user;
  }

  const live = (key: string, now: number) => {
    const held = reservations.get(key);
    return held !== undefined && held.expiresAt.getTime() > now ? held : undefined;
  };

  function existing(userId: string): UserRecord {
    const user = byId.get(userId);
    if (user === undefined) throw new UserNotFoundError();
    return user;
  }
  /** Outbox mode: write the change's event in the same synchronous step as the change. */
  const emit = (user: UserRecord, options: UserChangeOptions | undefined, data?: Record<string, unknown>) => {
    const event = options?.event;
    if (event === undefined) return;
    outbox.add(
      user.id,
      { issuer: user.issuer, subject: user.subject },
      {
        ...event,
        ...(data === undefined ? {} : { data: { ...event.data, ...data } }),
      },
    );
  };

  const userStore: UserLifecycleStore = {
    async setStatus(userId, status, options) {
      const user = existing(userId);
      if (user.status === status) return { user: copy(user), changed: false };
      user.status = status;
      user.disabledAt = status === 'disabled' ? new Date() : null;
      user.updatedAt = new Date();
      emit(user, options);
      changed(user);
      return { user: copy(user), changed: true };
    },

    async setRole(userId, role, options) {
      const user = existing(userId);
      const from = user.role;
      if (from === role) return { user: copy(user), from, changed: false };
      user.role = role;
      user.updatedAt = new Date();
      emit(user, options, { from });
      changed(user);
      return { user: copy(user), from, changed: true };
    },

    async revokeSessions(userId, options) {
      const user = existing(userId);
      user.tokensValidAfter = new Date();
      user.updatedAt = user.tokensValidAfter;
      emit(user, options);
      changed(user);
      return copy(user);
    },

    async delete(userId, options) {
      const user = byId.get(userId);
      if (user === undefined) return null;
      byId.delete(userId);
      byKey.delete(keyOf(user));
      usernames.delete(user.username);
      emit(user, options);
      changed(user);
      return copy(user);
    },

    async list(q) {
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const needle = q.query?.toLowerCase();
      const seenBefore = q.seenBefore?.getTime();
      const matches = (u: UserRecord) =>
        (after === undefined ||
          u.createdAt.getTime() > after[0] ||
          (u.createdAt.getTime() === after[0] && u.id > after[1])) &&
        (q.role === undefined || u.role === q.role) &&
        (q.status === undefined || u.status === q.status) &&
        (seenBefore === undefined || (u.lastSeenAt ?? u.createdAt).getTime() < seenBefore) &&
        (needle === undefined ||
          [u.email, u.name, u.username, u.subject].some((field) => field?.toLowerCase().includes(needle)));
      const page = [...byId.values()]
        .filter(matches)
        .sort(byCreation)
        .slice(0, q.limit + 1);
      const more = page.length > q.limit;
      const users = page.slice(0, q.limit).map(copy);
      const last = users[users.length - 1];
      return { users, nextCursor: more && last !== undefined ? encodeCursor(last) : null };
    },

    async touchLastSeen(userId) {
      const user = byId.get(userId);
      if (user !== undefined) user.lastSeenAt = new Date();
    },
  };

  const reservationStore: ReservationStore = {
    async reserve(key, { leaseMs }) {
      const k = keyOf(key);
      const now = Date.now();
      const held = live(k, now);
      if (held !== undefined) throw new ReservationConflictError(undefined, new Date(held.expiresAt));
      const reservation: Reservation = { token: randomUUID(), expiresAt: new Date(now + leaseMs) };
      reservations.set(k, reservation);
      return { ...reservation };
    },

    async confirm(input, reservation, userId) {
      const k = keyOf(input);
      if (reservations.get(k)?.token !== reservation.token) {
        throw new ReservationConflictError('the reservation is stale: another caller took it over');
      }
      if (byKey.has(k)) throw new ReservationConflictError('a user already exists for this identity');
      const user = insert(input, userId);
      reservations.delete(k);
      return copy(user);
    },

    async release(key, reservation) {
      const k = keyOf(key);
      if (reservations.get(k)?.token === reservation.token) reservations.delete(k);
    },
  };

  return {
    invitations,
    outbox,
    reservations: reservationStore,
    changes,
    users: userStore,

    async lookup(key) {
      const user = byKey.get(keyOf(key));
      return user === undefined ? null : copy(user);
    },

    async upsert(input) {
      const existing = byKey.get(keyOf(input));
      if (existing !== undefined) {
        const patch = profileChanges(existing, input);
        return { user: copy(patch === undefined ? existing : applyPatch(existing, patch)), created: false };
      }
      return { user: copy(insert(input, randomUUID())), created: true };
    },

    async sync(userId, patch) {
      const user = byId.get(userId);
      if (user === undefined) throw new UserNotFoundError();
      return copy(applyPatch(user, patch));
    },

    async getUser(userId) {
      const user = byId.get(userId);
      return user === undefined ? null : copy(user);
    },

    async setRole(userId, role) {
      return (await userStore.setRole(userId, role)).user;
    },

    // Nothing to migrate or reach: always ready.
    check: async () => ({ ok: true, detail: 'in-memory store: nothing to check' }),
    clear() {
      byKey.clear();
      byId.clear();
      usernames.clear();
      reservations.clear();
      invitations.clear();
      outbox.clear();
      for (const { onStatus } of subscribers) onStatus?.('up');
    },
  };
}
