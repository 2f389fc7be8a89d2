import {
  InvalidFieldError,
  LastAdminError,
  type UserChangeOptions,
  type UserLifecycleStore,
  type UserListQuery,
  type UserPage,
  type UserRecord,
} from '@jit-provision/core';
import type { MemoryOutbox } from './outbox';
import { copy, type RowSnapshots, type UserTable } from './table';

/** Keyset cursor: the (createdAt, id) of a page's last row. */
const encodeCursor = (user: UserRecord) =>
  Buffer.from(JSON.stringify([user.createdAt.getTime(), user.id])).toString('base64url');
function decodeCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && Number.isFinite(value[0]) && typeof value[1] === 'string')
      return [value[0], value[1]];
  } catch {}
  throw new InvalidFieldError('cursor', 'cursor is not one this store issued');
}

/** (createdAt, id) order: the listing's stable order. */
const byCreation = (a: UserRecord, b: UserRecord) =>
  a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function listUsers(users: Iterable<UserRecord>, q: UserListQuery): UserPage {
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
  const page = [...users]
    .filter(matches)
    .sort(byCreation)
    .slice(0, q.limit + 1);
  const more = page.length > q.limit;
  const listed = page.slice(0, q.limit).map(copy);
  const last = listed[listed.length - 1];
  return { users: listed, nextCursor: more && last !== undefined ? encodeCursor(last) : null };
}

/**
 * The memory store's lifecycle part (`store.users`): each change, its outbox event (when asked) and its
 * change report happen in one synchronous step.
 */
export function createMemoryUserLifecycle(
  table: UserTable,
  outbox: MemoryOutbox,
  snapshots: RowSnapshots,
): UserLifecycleStore {
  const { changed } = snapshots;
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

  /** `keepAdmin`: refuse a change that takes the last active holder of that role away (one synchronous step). */
  const keepHolder = (user: UserRecord, removes: boolean, options: UserChangeOptions | undefined) => {
    const role = options?.keepAdmin;
    if (role === undefined || !removes || user.role !== role || user.status !== 'active') return;
    for (const other of table.byId.values())
      if (other.id !== user.id && other.role === role && other.status === 'active') return;
    throw new LastAdminError();
  };

  return {
    async setStatus(userId, status, options) {
      const user = table.existing(userId);
      if (user.status === status) return { user: copy(user), changed: false };
      keepHolder(user, status === 'disabled', options);
      user.status = status;
      user.disabledAt = status === 'disabled' ? new Date() : null;
      user.updatedAt = new Date();
      emit(user, options);
      changed(user);
      return { user: copy(user), changed: true };
    },

    async setRole(userId, role, options) {
      const user = table.existing(userId);
      const from = user.role;
      const source = options?.source ?? 'local';
      // A login's sync never overwrites a local grant.
      if (options?.keepLocal === true && user.roleSource === 'local')
        return { user: copy(user), from, changed: false };
      if (from === role && user.roleSource === source) return { user: copy(user), from, changed: false };
      keepHolder(user, role !== from, options);
      user.role = role;
      user.roleSource = source;
      user.updatedAt = new Date();
      if (from !== role) emit(user, options, { from });
      changed(user);
      return { user: copy(user), from, changed: from !== role };
    },

    async revokeSessions(userId, options) {
      const user = table.existing(userId);
      // A logout token's `iat` never moves an existing, later revocation back.
      const now = new Date();
      const at = options?.at === undefined ? now : new Date(options.at.getTime());
      user.tokensValidAfter =
        user.tokensValidAfter !== null && user.tokensValidAfter > at ? user.tokensValidAfter : at;
      user.updatedAt = now;
      emit(user, options);
      changed(user);
      return copy(user);
    },

    async delete(userId, options) {
      const user = table.byId.get(userId);
      if (user === undefined) return null;
      keepHolder(user, true, options);
      table.remove(user);
      emit(user, options);
      changed(user);
      return copy(user);
    },

    list: async (q) => listUsers(table.byId.values(), q),

    async touchLastSeen(userId) {
      const user = table.byId.get(userId);
      if (user === undefined) return;
      user.lastSeenAt = new Date();
      snapshots.touched(user);
    },
  };
}
