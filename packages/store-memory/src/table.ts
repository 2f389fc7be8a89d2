import {
  type NewUser,
  ReservationConflictError,
  UserNotFoundError,
  type UserPatch,
  type UserRecord,
} from '@jit-provision/core';
import { userKey as keyOf } from '@jit-provision/core/adapter';
import type { MemoryOutbox } from './outbox';

// Callers get copies, so mutating a returned record never changes what is stored.
const date = (value: Date | null) => (value === null ? null : new Date(value));
export const copy = (user: UserRecord): UserRecord => ({
  ...user,
  createdAt: new Date(user.createdAt),
  updatedAt: new Date(user.updatedAt),
  disabledAt: date(user.disabledAt),
  tokensValidAfter: date(user.tokensValidAfter),
  lastSeenAt: date(user.lastSeenAt),
});

/**
 * The stored users and their indexes, kept in step by the only code that adds or removes a user. Records
 * are the stored objects themselves (callers `copy` before handing them out).
 */
export interface UserTable {
  /** By `userKey(issuer, subject)`. */
  readonly byKey: Map<string, UserRecord>;
  readonly byId: Map<string, UserRecord>;
  /** Create the user (and its `user.provisioned` event when asked); conflicts on a taken id or username. */
  insert(input: NewUser, id: string): UserRecord;
  /** Apply an email/name patch; reports the user changed only when something did. */
  applyPatch(user: UserRecord, patch: UserPatch): UserRecord;
  /** The stored user with this id, or UserNotFoundError. */
  existing(userId: string): UserRecord;
  remove(user: UserRecord): void;
  clear(): void;
}

/**
 * @param outbox where `insert` writes a `NewUser.emitEvent`, in the same synchronous step as the insert
 * @param changed told of every change to an existing user, before the write resolves
 */
export function createUserTable(outbox: MemoryOutbox, changed: (user: UserRecord) => void): UserTable {
  const byKey = new Map<string, UserRecord>();
  const byId = new Map<string, UserRecord>();
  const usernames = new Set<string>();

  return {
    byKey,
    byId,

    insert(input, id) {
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
        roleSource: input.roleSource ?? 'default',
        tenantId: input.tenantId ?? null,
        externalId: input.externalId ?? null,
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
    },

    applyPatch(user, patch) {
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
    },

    existing(userId) {
      const user = byId.get(userId);
      if (user === undefined) throw new UserNotFoundError();
      return user;
    },

    remove(user) {
      byId.delete(user.id);
      byKey.delete(keyOf(user));
      usernames.delete(user.username);
    },

    clear() {
      byKey.clear();
      byId.clear();
      usernames.clear();
    },
  };
}
