import {
  InvalidFieldError,
  LastAdminError,
  type RoleSource,
  type UserChangeOptions,
  type UserLifecycleStore,
  type UserListQuery,
  UserNotFoundError,
  type UserPage,
  type UserRecord,
} from '@jit-provision/core';
import { sql } from 'kysely';
import { type Context, forUpdate, rows, transaction } from './context';
import type { AnyKysely } from './dialect';
import { guard } from './errors';
import { insertEvent } from './outbox';
import { toUser, USER_COLUMNS, type UserRow } from './rows';
import { userById } from './users';

/** A LIKE pattern matching `text` literally anywhere: `\`, `%` and `_` escaped with `\`. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

const encodeCursor = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      value[0].length < 40
    )
      return [value[0], value[1]];
  } catch {}
  throw new InvalidFieldError('cursor', 'cursor is not one this store issued');
}

/** `created_at` exactly as stored, as text: a cursor that rounded it would repeat or skip a row. */
function exactCreatedAt(ctx: Context) {
  if (ctx.d.name === 'mysql') return sql.raw(`DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f')`);
  if (ctx.d.name === 'postgres')
    return sql.raw(`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  return sql.raw('created_at');
}

async function listUsers(ctx: Context, q: UserListQuery): Promise<UserPage> {
  const { d, T } = ctx;
  const where = [sql`1 = 1`];
  if (q.cursor !== undefined) {
    const [at, id] = decodeCursor(q.cursor);
    const atParam = d.name === 'postgres' ? sql`${at}::timestamptz` : sql`${at}`;
    where.push(sql`(created_at > ${atParam} OR (created_at = ${atParam} AND id > ${id}))`);
  }
  if (q.query !== undefined) {
    const p = containsPattern(q.query);
    where.push(
      sql`(${d.ilike('email', p)} OR ${d.ilike('name', p)} OR ${d.ilike('username', p)} OR ${d.ilike('subject', p)})`,
    );
  }
  if (q.role !== undefined) where.push(sql`role = ${q.role}`);
  if (q.status !== undefined) where.push(sql`status = ${q.status}`);
  if (q.seenBefore !== undefined)
    where.push(sql`COALESCE(last_seen_at, created_at) < ${d.time(q.seenBefore)}`);
  const found = await rows<UserRow & { cursor_at: string }>(
    ctx.db,
    sql`SELECT ${d.select(USER_COLUMNS)}, ${exactCreatedAt(ctx)} AS cursor_at FROM ${T.users}
        WHERE ${sql.join(where, sql` AND `)} ORDER BY created_at, id LIMIT ${q.limit + 1}`,
  );
  const page = found.slice(0, q.limit);
  const last = page.at(-1);
  return {
    users: page.map((r) => toUser(d, r)),
    nextCursor: found.length > q.limit && last !== undefined ? encodeCursor(last.cursor_at, last.id) : null,
  };
}

/** The SET list of a change; `event: false` writes the change without its event (a role source alone). */
type Change = { sets: ReturnType<typeof sql>[]; data?: Record<string, unknown>; event?: boolean } | null;

/** The named lock every `keepAdmin` change of one role takes, so they run one at a time across processes. */
const keepLock = (options: UserChangeOptions | undefined) =>
  options?.keepAdmin === undefined ? undefined : `keep-admin:${options.keepAdmin}`;

/**
 * `keepAdmin`: refuse (LastAdminError) a change that takes the last active holder of the role away. Runs
 * under {@link keepLock}, so the holders it counts (a locking read: the latest committed rows) cannot change
 * under it through another `keepAdmin` change.
 */
async function keepHolder(
  ctx: Context,
  conn: AnyKysely,
  row: UserRow,
  options: UserChangeOptions | undefined,
  removes: boolean,
): Promise<void> {
  const keep = options?.keepAdmin;
  if (keep === undefined || !removes || row.role !== keep || row.status !== 'active') return;
  const others = await rows<{ id: string }>(
    conn,
    sql`SELECT id FROM ${ctx.T.users} WHERE role = ${keep} AND status = 'active' AND id <> ${row.id}
        ORDER BY id LIMIT 1${forUpdate(ctx)}`,
  );
  if (others.length === 0) throw new LastAdminError();
}

/**
 * One lifecycle change in one transaction: lock the row, decide (`decide` answers the SET list, or null for
 * "nothing to do"), write it and its event, read the row back. The event exists iff the change happened.
 */
async function change(
  ctx: Context,
  userId: string,
  options: UserChangeOptions | undefined,
  decide: (row: UserRow) => Change,
  removes: (row: UserRow) => boolean = () => false,
): Promise<{ before: UserRow; after: UserRow; changed: boolean }> {
  return transaction(
    ctx,
    async (conn: AnyKysely) => {
      const before = await userById(ctx, conn, userId, true);
      if (before === undefined) throw new UserNotFoundError();
      const decided = decide(before);
      if (decided === null) return { before, after: before, changed: false };
      await keepHolder(ctx, conn, before, options, removes(before));
      await sql`UPDATE ${ctx.T.users} SET ${sql.join(decided.sets)} WHERE id = ${userId}`.execute(conn);
      const event = options?.event;
      if (event !== undefined && decided.event !== false)
        await insertEvent(ctx, conn, {
          type: event.type,
          userId,
          identity: { issuer: before.issuer, subject: before.subject ?? '' },
          actor: event.actor,
          data: decided.data ?? event.data ?? null,
        });
      const after = (await userById(ctx, conn, userId)) as UserRow;
      return { before, after, changed: true };
    },
    keepLock(options),
  );
}

/**
 * `Store.setRole` and `users.setRole`: the role it replaced is read under the row lock; with `keepLocal` a
 * local grant is left as it is; the event is written only for a new role, with `from` in its data.
 */
export async function setRole(
  ctx: Context,
  userId: string,
  role: string,
  options: UserChangeOptions & { source?: RoleSource | undefined; keepLocal?: boolean | undefined } = {},
): Promise<{ user: UserRecord; from: string; changed: boolean }> {
  const source = options.source ?? 'local';
  const { before, after } = await change(
    ctx,
    userId,
    options,
    (row) => {
      if (row.role === role && row.role_source === source) return null;
      if (options.keepLocal === true && row.role_source === 'local') return null;
      return {
        sets: [sql`role = ${role}`, sql`role_source = ${source}`, sql`updated_at = ${ctx.d.now}`],
        event: row.role !== role,
        data: { ...(options.event?.data ?? {}), from: row.role },
      };
    },
    (row) => row.role !== role,
  );
  return { user: toUser(ctx.d, after), from: before.role, changed: before.role !== after.role };
}

export function createLifecycle(ctx: Context): UserLifecycleStore {
  const { d, T } = ctx;
  return {
    setStatus: (userId, status, options) =>
      guard(async () => {
        const r = await change(
          ctx,
          userId,
          options,
          (row) =>
            row.status === status
              ? null
              : {
                  sets: [
                    sql`status = ${status}`,
                    status === 'disabled' ? sql`disabled_at = ${d.now}` : sql`disabled_at = NULL`,
                    sql`updated_at = ${d.now}`,
                  ],
                },
          () => status === 'disabled',
        );
        return { user: toUser(d, r.after), changed: r.changed };
      }),
    setRole: (userId, role, options) => guard(() => setRole(ctx, userId, role, options)),
    revokeSessions: (userId, options) =>
      guard(async () => {
        const at = options?.at;
        const r = await change(ctx, userId, options, (row) => {
          // A back-channel logout's `iat` never moves a later revocation back (nothing changes, no event).
          const current = row.tokens_valid_after == null ? null : d.readTime(row.tokens_valid_after);
          if (at !== undefined && current !== null && current.getTime() >= at.getTime()) return null;
          const to = at === undefined ? d.now : sql`${d.time(at)}`;
          const greatest = d.name === 'sqlite' ? sql.raw('MAX') : sql.raw('GREATEST');
          return {
            sets: [
              sql`tokens_valid_after = ${greatest}(COALESCE(tokens_valid_after, ${to}), ${to})`,
              sql`updated_at = ${d.now}`,
            ],
          };
        });
        return toUser(d, r.after);
      }),
    delete: (userId, options) =>
      guard(() =>
        transaction(
          ctx,
          async (conn) => {
            const row = await userById(ctx, conn, userId, true);
            if (row === undefined) return null;
            await keepHolder(ctx, conn, row, options, true);
            await sql`DELETE FROM ${T.users} WHERE id = ${userId}`.execute(conn);
            if (options?.event !== undefined)
              await insertEvent(ctx, conn, {
                type: options.event.type,
                userId,
                identity: { issuer: row.issuer, subject: row.subject ?? '' },
                actor: options.event.actor,
                data: options.event.data ?? null,
              });
            return toUser(d, row);
          },
          keepLock(options),
        ),
      ),
    list: (q) => guard(() => listUsers(ctx, q)),
    touchLastSeen: (userId) =>
      guard(async () => {
        await sql`UPDATE ${T.users} SET last_seen_at = ${d.now} WHERE id = ${userId}`.execute(ctx.db);
      }),
  };
}
