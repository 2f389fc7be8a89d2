import {
  InvalidFieldError,
  LastAdminError,
  type UserChangeOptions,
  type UserLifecycleStore,
  type UserListQuery,
  UserNotFoundError,
  type UserPage,
  type UserRecord,
} from '@jit-provision/core';
import type { PoolClient } from 'pg';
import type { Executor } from './executor';
import { userEventCte, userEventValues } from './outbox';
import { guard } from './pg-errors';
import { toUser, USER_COLUMNS, type UserRow, userColumnsOf } from './rows';
import { quoteSchema } from './schema-name';
import type { NameStatement } from './statement-name';

/** `created_at` to the microsecond, in UTC: a keyset cursor must not round it, or a row repeats. */
const EXACT_CREATED_AT = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const EXACT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const encodeCursor = (createdAt: string, id: string) =>
  Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      typeof value[0] === 'string' &&
      EXACT_TIME.test(value[0]) &&
      typeof value[1] === 'string'
    )
      return [value[0], value[1]];
  } catch {}
  throw new InvalidFieldError('cursor', 'cursor is not one this store issued');
}

/** A LIKE pattern matching `text` literally anywhere: `\`, `%` and `_` escaped (LIKE's default escape is `\`). */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

/** The lifecycle statements: each one change plus (when asked) its outbox event. */
function lifecycleStatements(schema: string, named: NameStatement) {
  const s = quoteSchema(schema);
  const event = (source: string, first: number, data?: string) => userEventCte(schema, source, first, data);
  return {
    // `status IS DISTINCT FROM $2`: an idempotent call writes nothing, so no event either.
    setStatus: {
      ...named('set_status'),
      text: `WITH changed AS (
               UPDATE ${s}.users SET status = $2::text,
                 disabled_at = CASE WHEN $2::text = 'disabled' THEN now() ELSE NULL END,
                 updated_at = now()
               WHERE id = $1 AND status IS DISTINCT FROM $2::text
               RETURNING ${USER_COLUMNS}
             ), ${event('changed', 3)}
             SELECT ${USER_COLUMNS} FROM changed`,
    },
    // `old` locks the row, so `from` is the role this statement replaced, even under concurrent changes. A
    // login's sync ($7, keepLocal) never touches a local grant; the event is written only for a new role.
    setRole: {
      ...named('set_role'),
      text: `WITH old AS (
               SELECT id, role, role_source FROM ${s}.users WHERE id = $1 FOR UPDATE
             ), changed AS (
               UPDATE ${s}.users u SET role = $2::text, role_source = $6::text, updated_at = now()
               FROM old WHERE u.id = old.id
                 AND (old.role IS DISTINCT FROM $2::text OR old.role_source IS DISTINCT FROM $6::text)
                 AND NOT ($7::boolean AND old.role_source = 'local')
               RETURNING ${userColumnsOf('u')}, old.role AS previous_role
             ), role_changed AS (
               SELECT * FROM changed WHERE previous_role IS DISTINCT FROM role
             ), ${event('role_changed', 3, `COALESCE($5::jsonb, '{}'::jsonb) || jsonb_build_object('from', previous_role)`)}
             SELECT ${USER_COLUMNS}, previous_role FROM changed`,
    },
    revokeSessions: {
      ...named('revoke_sessions'),
      text: `WITH changed AS (
               UPDATE ${s}.users
                 SET tokens_valid_after = GREATEST(tokens_valid_after, COALESCE($5::timestamptz, now())),
                     updated_at = now()
               WHERE id = $1
               RETURNING ${USER_COLUMNS}
             ), ${event('changed', 2)}
             SELECT ${USER_COLUMNS} FROM changed`,
    },
    delete: {
      ...named('delete_user'),
      text: `WITH gone AS (
               DELETE FROM ${s}.users WHERE id = $1 RETURNING ${USER_COLUMNS}
             ), ${event('gone', 2)}
             SELECT ${USER_COLUMNS} FROM gone`,
    },
    touch: {
      ...named('touch_last_seen'),
      text: `UPDATE ${s}.users SET last_seen_at = now() WHERE id = $1`,
    },
  } as const;
}

/** One keyset page of users, in (created_at, id) order. */
async function listUsers(db: Executor, s: string, q: UserListQuery): Promise<UserPage> {
  const after = q.cursor === undefined ? [null, null] : decodeCursor(q.cursor);
  // Unnamed on purpose: planned with the actual values, so the unused filters fold away and the
  // (created_at, id) index serves the order and the cursor.
  const rows = await db.rows<UserRow & { cursor_at: string }>(
    {
      text: `SELECT ${USER_COLUMNS}, ${EXACT_CREATED_AT} AS cursor_at FROM ${s}.users
                 WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::text))
                   AND ($3::text IS NULL OR email ILIKE $3 OR name ILIKE $3 OR username ILIKE $3 OR subject ILIKE $3)
                   AND ($4::text IS NULL OR role = $4::text)
                   AND ($5::text IS NULL OR status = $5::text)
                   AND ($6::timestamptz IS NULL OR COALESCE(last_seen_at, created_at) < $6::timestamptz)
                 ORDER BY created_at, id
                 LIMIT $7`,
      values: [
        ...after,
        q.query === undefined ? null : containsPattern(q.query),
        q.role ?? null,
        q.status ?? null,
        q.seenBefore ?? null,
        q.limit + 1,
      ],
    },
    { retry: true },
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    users: page.map(toUser),
    nextCursor: rows.length > q.limit && last !== undefined ? encodeCursor(last.cursor_at, last.id) : null,
  };
}

/**
 * The Postgres lifecycle part: every change is one statement that also writes its outbox event (when asked),
 * so the event exists iff the change happened. Times come from the database clock.
 */
export function createPostgresUserStore(
  db: Executor,
  schema: string,
  named: NameStatement,
  getUser: (userId: string) => Promise<UserRecord | null>,
): UserLifecycleStore {
  const s = quoteSchema(schema);

  async function current(userId: string): Promise<UserRecord> {
    const user = await getUser(userId);
    if (user === null) throw new UserNotFoundError();
    return user;
  }

  const sql = lifecycleStatements(schema, named);

  type ChangedRow = UserRow & { previous_role?: string };
  const run = async (
    config: { name?: string; text: string },
    userId: string,
    values: unknown[],
    client?: PoolClient,
  ) =>
    client === undefined
      ? (await db.rows<ChangedRow>({ ...config, values: [userId, ...values] }))[0]
      : (await client.query<ChangedRow>({ ...config, values: [userId, ...values] })).rows[0];

  /**
   * One change; with `keepAdmin`, in a transaction that first locks the target and every active holder of that
   * role in id order (one order, so racing removals queue rather than deadlock). Under READ COMMITTED a waiter
   * re-reads each locked row once the holder commits, so a removal that just landed in another process is seen,
   * and of two racing removals of the last two admins the second is refused with LastAdminError.
   */
  const change = (
    config: { name?: string; text: string },
    userId: string,
    values: unknown[],
    options: UserChangeOptions | undefined,
    removes: boolean | ((target: { role: string }) => boolean),
  ) => {
    const keep = options?.keepAdmin;
    if (keep === undefined || removes === false) return run(config, userId, values);
    return db.transaction(async (client) => {
      const { rows } = await client.query<{ id: string; role: string; status: string }>(
        `SELECT id, role, status FROM ${s}.users WHERE id = $1 OR (role = $2 AND status = 'active')
         ORDER BY id FOR UPDATE`,
        [userId, keep],
      );
      const target = rows.find((row) => row.id === userId);
      const holds = (row: { role: string; status: string }) => row.role === keep && row.status === 'active';
      if (
        target !== undefined &&
        holds(target) &&
        (removes === true || removes(target)) &&
        !rows.some((row) => row.id !== userId && holds(row))
      )
        throw new LastAdminError();
      return run(config, userId, values, client);
    });
  };

  const users: UserLifecycleStore = {
    async setStatus(userId, status, options?: UserChangeOptions) {
      const row = await change(
        sql.setStatus,
        userId,
        [status, ...userEventValues(options)],
        options,
        status === 'disabled',
      );
      if (row !== undefined) return { user: toUser(row), changed: true };
      return { user: await current(userId), changed: false };
    },

    async setRole(userId, role, options) {
      const values = [
        role,
        ...userEventValues(options),
        options?.source ?? 'local',
        options?.keepLocal === true,
      ];
      const row = await change(sql.setRole, userId, values, options, (target) => target.role !== role);
      if (row !== undefined) {
        const from = row.previous_role ?? role;
        return { user: toUser(row), from, changed: from !== role };
      }
      const user = await current(userId);
      return { user, from: user.role, changed: false };
    },

    async revokeSessions(userId, options) {
      // `at`: a back-channel logout token's iat; a later revocation already set stays (GREATEST).
      const row = await run(sql.revokeSessions, userId, [...userEventValues(options), options?.at ?? null]);
      if (row === undefined) throw new UserNotFoundError();
      return toUser(row);
    },

    async delete(userId, options) {
      const row = await change(sql.delete, userId, userEventValues(options), options, true);
      return row === undefined ? null : toUser(row);
    },

    list: (q) => listUsers(db, s, q),

    async touchLastSeen(userId) {
      await db.rows({ ...sql.touch, values: [userId] });
    },
  };

  return {
    setStatus: (userId, status, options) => guard(() => users.setStatus(userId, status, options)),
    setRole: (userId, role, options) => guard(() => users.setRole(userId, role, options)),
    revokeSessions: (userId, options) => guard(() => users.revokeSessions(userId, options)),
    delete: (userId, options) => guard(() => users.delete(userId, options)),
    list: (q) => guard(() => users.list(q)),
    touchLastSeen: (userId) => guard(() => users.touchLastSeen(userId)),
  };
}
