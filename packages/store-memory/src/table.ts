import {
  type NewUser,
  ReservationConflictError,
  ScimConflictError,
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

/** The key of the per-issuer `externalId` index. */
export const externalKey = (issuer: string, externalId: string) => `${issuer}\u0000${externalId}`;

/**
 * The stored users and their indexes, kept in step by the only code that adds or removes a user. Records
 * are the stored objects themselves (callers `copy` before handing them out).
 */
export interface UserTable {
  /** By `userKey(issuer, subject)`: bound rows only (an unbound row, `subject: ''`, is never found by a login). */
  readonly byKey: Map<string, UserRecord>;
  readonly byId: Map<string, UserRecord>;
  /** By `externalKey(issuer, externalId)`, rows that have one (decision 0008). */
  readonly byExternalId: Map<string, UserRecord>;
  /**
   * Create the user (and its `user.provisioned` event when asked); conflicts on a taken id or username, and
   * `ScimConflictError`('externalId') on an `externalId` another row of the issuer has.
   */
  insert(input: NewUser, id: string): UserRecord;
  /** Bind an unbound row to its first login: subject and username in one step, reported as a change. */
  bind(user: UserRecord, subject: string, username: string): UserRecord;
  /** Set (or clear) a row's `externalId`; `ScimConflictError`('externalId') when another row of the issuer has it. */
  setExternalId(user: UserRecord, externalId: string | null): void;
  /** Called with every removed row (the SCIM part drops what it keeps about it). */
  readonly onRemove: Set<(user: UserRecord) => void>;
  /** Apply an email/name patch; reports the user changed only when something did. */
  applyPatch(user: UserRecord, patch: UserPatch): UserRecord;
  /** The stored user with this id, or UserNotFoundError. */
  existing(userId: string): UserRecord;
  remove(user: UserRecord): void;
  clear(): void;
}

/** The frozen snapshots of a {@link UserTable}'s rows, and the one way a change to a row is reported. */
export interface RowSnapshots {
  /**
   * The frozen copy of a stored row that `lookup` answers: one per row until the row changes, so a login's
   * lookup allocates nothing and core need not copy it again (it hands frozen records out as they are).
   */
  snapshot(user: UserRecord): UserRecord;
  /**
   * Report a change to a stored row: its snapshot is dropped, then the change feed is told. Every mutation of
   * a stored row goes through here (or through `touched`), or `lookup` would answer stale.
   */
  changed(user: UserRecord): void;
  /** Drop a row's snapshot after a change no subscriber needs to hear of (`lastSeenAt`). */
  touched(user: UserRecord): void;
}

/** {@link RowSnapshots} whose `changed` tells `report` (the change feed) after dropping the snapshot. */
export function createRowSnapshots(report: (user: UserRecord) => void): RowSnapshots {
  // Keyed by the stored object: a removed row's snapshot goes with it.
  const snapshots = new WeakMap<UserRecord, UserRecord>();
  return {
    snapshot(user) {
      let frozen = snapshots.get(user);
      if (frozen === undefined) {
        // A copy (Dates included): the stored row changes in place, the snapshot never does.
        frozen = Object.freeze(copy(user));
        snapshots.set(user, frozen);
      }
      return frozen;
    },
    changed(user) {
      snapshots.delete(user);
      report(user);
    },
    touched(user) {
      snapshots.delete(user);
    },
  };
}

/**
 * @param outbox where `insert` writes a `NewUser.emitEvent`, in the same synchronous step as the insert
 * @param snapshots told of every change to an existing user (and the change feed through it), before the write resolves
 */
export function createUserTable(outbox: MemoryOutbox, snapshots: RowSnapshots): UserTable {
  const byKey = new Map<string, UserRecord>();
  const byId = new Map<string, UserRecord>();
  const byExternalId = new Map<string, UserRecord>();
  const usernames = new Set<string>();
  const onRemove = new Set<(user: UserRecord) => void>();

  const takenExternalId = (issuer: string, externalId: string | null, self?: UserRecord) => {
    if (externalId === null) return;
    const holder = byExternalId.get(externalKey(issuer, externalId));
    if (holder !== undefined && holder !== self) throw new ScimConflictError('externalId');
  };

  return {
    byKey,
    byId,
    byExternalId,
    onRemove,

    insert(input, id) {
      if (byId.has(id)) throw new ReservationConflictError('the user id is already taken');
      if (usernames.has(input.username))
        throw new ReservationConflictError('the username belongs to another identity');
      takenExternalId(input.issuer, input.externalId ?? null);
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
      if (user.subject !== '') byKey.set(keyOf(user), user);
      if (user.externalId !== null) byExternalId.set(externalKey(user.issuer, user.externalId), user);
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
        snapshots.changed(user);
      }
      return user;
    },

    bind(user, subject, username) {
      if (username !== user.username) {
        if (usernames.has(username))
          throw new ReservationConflictError('the username belongs to another identity');
        usernames.delete(user.username);
        usernames.add(username);
      }
      if (user.subject !== '') byKey.delete(keyOf(user));
      user.subject = subject;
      user.username = username;
      user.updatedAt = new Date();
      byKey.set(keyOf(user), user);
      snapshots.changed(user);
      return user;
    },

    setExternalId(user, externalId) {
      if (externalId === user.externalId) return;
      takenExternalId(user.issuer, externalId, user);
      if (user.externalId !== null) byExternalId.delete(externalKey(user.issuer, user.externalId));
      user.externalId = externalId;
      if (externalId !== null) byExternalId.set(externalKey(user.issuer, externalId), user);
      user.updatedAt = new Date();
      snapshots.changed(user);
    },

    existing(userId) {
      const user = byId.get(userId);
      if (user === undefined) throw new UserNotFoundError();
      return user;
    },

    remove(user) {
      byId.delete(user.id);
      if (byKey.get(keyOf(user)) === user) byKey.delete(keyOf(user));
      if (user.externalId !== null) byExternalId.delete(externalKey(user.issuer, user.externalId));
      usernames.delete(user.username);
      for (const hook of onRemove) hook(user);
    },

    clear() {
      byKey.clear();
      byId.clear();
      byExternalId.clear();
      usernames.clear();
    },
  };
}

/**
 * A login's `upsert` with `NewUser.externalId` (decision 0008): the unbound row of its issuer with that
 * `externalId` is bound to the login and answered; undefined when there is none; `ScimConflictError`
 * ('externalId') when the row is bound to another subject, so no second row is made for the person.
 */
export function bindByExternalId(table: UserTable, input: NewUser): UserRecord | undefined {
  if (input.externalId === undefined) return undefined;
  const row = table.byExternalId.get(externalKey(input.issuer, input.externalId));
  if (row === undefined) return undefined;
  if (row.subject !== '') throw new ScimConflictError('externalId');
  return table.bind(row, input.subject, input.username);
}
