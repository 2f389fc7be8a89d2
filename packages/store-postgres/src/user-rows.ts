import { randomUUID } from 'node:crypto';
import {
  type NewUser,
  ReservationConflictError,
  ScimConflictError,
  type Store,
  type StoreKey,
  StoreUnavailableError,
  UserNotFoundError,
  type UserPatch,
  type UserRecord,
} from '@jit-provision/core';
import { profileChanges } from '@jit-provision/core/adapter';
import type { Executor } from './executor';
import { eventIdentity } from './outbox';
import { guard, sqlState } from './pg-errors';
import { toUser, USER_COLUMNS, type UserRow } from './rows';
import { quoteSchema } from './schema-name';
import { type UserStatements, userValues } from './statements';

/** The required user methods of the store, but `lookup` (the per-request path, kept in the store itself). */
export type UserRows = Pick<Store, 'upsert' | 'sync' | 'getUser' | 'setRole'> & {
  lookupOrCreate: NonNullable<Store['lookupOrCreate']>;
  getUserByUsername(username: string): Promise<UserRecord | null>;
  /** `store.scim.bind`: see {@link bindRow}; null when no row of this identity holds the externalId. */
  bind(key: BindKey): Promise<UserRecord | null>;
};

/** A first login's identity, its externalIdClaim value, and the username a bound row takes. */
export type BindKey = StoreKey & { externalId: string; username: string };

/**
 * A first login's bind (decision 0008): the issuer's unbound row with this externalId gets the subject and
 * username in one statement (so of racing logins exactly one binds; the others then find it bound to their
 * subject). Answers the row when it is (now) bound to `key.subject`, 'other' when bound to another subject,
 * undefined when no row holds the externalId.
 */
export async function bindRow(db: Executor, s: string, key: BindKey): Promise<UserRow | 'other' | undefined> {
  let bound: UserRow[];
  try {
    bound = await db.rows<UserRow>({
      text: `UPDATE ${s}.users SET subject = $3, username = $4, updated_at = now()
             WHERE issuer = $1 AND external_id = $2 AND subject IS NULL
             RETURNING ${USER_COLUMNS}`,
      values: [key.issuer, key.externalId, key.subject, key.username],
    });
  } catch (error) {
    // Another row already has this subject (or username): the unbound row cannot become this identity.
    if (sqlState(error) === '23505') return 'other';
    throw error;
  }
  if (bound[0] !== undefined) return bound[0];
  const holder = (
    await db.rows<UserRow>({
      text: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE issuer = $1 AND external_id = $2`,
      values: [key.issuer, key.externalId],
    })
  )[0];
  if (holder === undefined) return undefined;
  return holder.subject === key.subject ? holder : 'other';
}

/**
 * `store.lookupOrCreate`: one statement (`lookupOrInsert`) that answers the row or creates it with its event;
 * when it answers nothing (a racer committed after its snapshot, or the username is another identity's),
 * a new read finds the racer's row, and `upsert` sorts out anything else. An externalId is upsert's own case
 * (it may bind a row SCIM made).
 */
function lookupOrCreateRow(
  db: Executor,
  sql: UserStatements,
  upsert: Store['upsert'],
): NonNullable<Store['lookupOrCreate']> {
  return (input) => {
    if (input.externalId !== undefined) return upsert(input);
    return guard(async () => {
      const identity = eventIdentity(input);
      const values = userValues(randomUUID(), input).slice(0, 9);
      const rows = await db.rows<UserRow & { created: boolean }>({
        ...(identity === null ? sql.lookupOrInsert : sql.lookupOrInsertWithEvent),
        values: identity === null ? values : [...values, ...identity],
      });
      const row = rows[0];
      if (row !== undefined) return { user: toUser(row), created: row.created };
      const winner = (
        await db.rows<UserRow>({ ...sql.lookup, values: [input.issuer, input.subject] }, { retry: true })
      )[0];
      return winner === undefined ? upsert(input) : { user: toUser(winner), created: false };
    });
  };
}

/**
 * The store's own user rows: create-if-absent, profile sync, reads by id and username, and the role a
 * provisioner sets. Connection failures surface as `StoreUnavailableError` (every method is guarded).
 */
export function createUserRows(db: Executor, schema: string, sql: UserStatements): UserRows {
  const s = quoteSchema(schema);

  const lookupRow = async (key: StoreKey) =>
    (await db.rows<UserRow>({ ...sql.lookup, values: [key.issuer, key.subject] }, { retry: true }))[0];

  async function syncRow(userId: string, patch: UserPatch): Promise<UserRecord> {
    const row = (
      await db.rows<UserRow>({
        ...sql.sync,
        values: [
          userId,
          patch.email !== undefined,
          patch.email ?? null,
          patch.name !== undefined,
          patch.name ?? null,
        ],
      })
    )[0];
    if (row === undefined) throw new UserNotFoundError();
    return toUser(row);
  }

  const upsert = (input: NewUser) =>
    guard(async () => {
      const identity = eventIdentity(input);
      // Loops only if a conflicting row is gone by the time we read it, which nothing here causes.
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await db.rows<UserRow>({
          ...(identity === null ? sql.insert : sql.insertWithEvent),
          values: [...userValues(randomUUID(), input), ...(identity ?? [])],
        });
        if (inserted[0] !== undefined) return { user: toUser(inserted[0]), created: true };

        // A new statement, so a new snapshot: it sees the row of whichever racer won.
        const existing = await lookupRow(input);
        if (existing !== undefined) {
          const patch = profileChanges(existing, input);
          const user = patch === undefined ? toUser(existing) : await syncRow(existing.id, patch);
          return { user, created: false };
        }

        // The insert met the externalId of a row SCIM created before this first login: bind it.
        if (input.externalId !== undefined) {
          const bound = await bindRow(db, s, { ...input, externalId: input.externalId });
          if (bound === 'other') throw new ScimConflictError('externalId');
          if (bound !== undefined) {
            const patch = profileChanges(bound, input);
            const user = patch === undefined ? toUser(bound) : await syncRow(bound.id, patch);
            return { user, created: false };
          }
        }

        const owner = await db.rows({
          text: `SELECT 1 FROM ${s}.users WHERE username = $1`,
          values: [input.username],
        });
        if (owner.length > 0) {
          throw new ReservationConflictError('the username belongs to another identity');
        }
      }
      throw new StoreUnavailableError('upsert did not settle after 3 attempts');
    });

  return {
    upsert,

    lookupOrCreate: lookupOrCreateRow(db, sql, upsert),

    sync: (userId, patch) => guard(() => syncRow(userId, patch)),

    bind: (key) =>
      guard(async () => {
        const row = await bindRow(db, s, key);
        return row === undefined || row === 'other' ? null : toUser(row);
      }),

    getUser: (userId) =>
      guard(async () => {
        const row = (await db.rows<UserRow>({ ...sql.getUser, values: [userId] }, { retry: true }))[0];
        return row === undefined ? null : toUser(row);
      }),

    getUserByUsername: (username) =>
      guard(async () => {
        const row = (
          await db.rows<UserRow>(
            { text: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE username = $1`, values: [username] },
            { retry: true },
          )
        )[0];
        return row === undefined ? null : toUser(row);
      }),

    setRole: (userId, role, source = 'local') =>
      guard(async () => {
        const row = (
          await db.rows<UserRow>({
            text: `UPDATE ${s}.users SET role = $2, role_source = $3,
                     updated_at = CASE WHEN role IS DISTINCT FROM $2 OR role_source IS DISTINCT FROM $3
                       THEN now() ELSE updated_at END
                   WHERE id = $1
                   RETURNING ${USER_COLUMNS}`,
            values: [userId, role, source],
          })
        )[0];
        if (row === undefined) throw new UserNotFoundError();
        return toUser(row);
      }),
  };
}
