import { randomUUID } from 'node:crypto';
import {
  type NewUser,
  ReservationConflictError,
  ScimConflictError,
  type StoreKey,
  StoreUnavailableError,
  UserNotFoundError,
  type UserPatch,
  type UserRecord,
} from '@jit-provision/core';
import { profileChanges } from '@jit-provision/core/adapter';
import { sql } from 'kysely';
import { type Context, externalIdIs, forUpdate, identityIs, rows, transaction } from './context';
import type { AnyKysely } from './dialect';
import { isUniqueViolation } from './errors';
import { insertEvent } from './outbox';
import { toUser, USER_COLUMNS, type UserRow } from './rows';

/** The INSERT of a new user row; `onConflict` decides what a duplicate key does. */
export function insertUser(ctx: Context, id: string, input: NewUser, ignoreConflict: boolean) {
  const { d, T } = ctx;
  const conflict = !ignoreConflict
    ? sql``
    : d.name === 'mysql'
      ? sql`ON DUPLICATE KEY UPDATE id = id`
      : sql`ON CONFLICT DO NOTHING`;
  return sql`INSERT INTO ${T.users}
      (id, issuer, subject, username, email, name, role, tenant_id, external_id, role_source, created_at, updated_at)
    VALUES (${id}, ${input.issuer}, ${input.subject}, ${input.username}, ${input.email ?? null}, ${input.name ?? null},
      ${input.role}, ${input.tenantId ?? null}, ${input.externalId ?? null}, ${input.roleSource ?? 'default'}, ${d.now}, ${d.now})
    ${conflict}`;
}

export const selectUser = (ctx: Context, where: ReturnType<typeof sql>, lock = false) =>
  sql<UserRow>`SELECT ${ctx.userColumns} FROM ${ctx.T.users} WHERE ${where}${lock ? forUpdate(ctx) : sql``}`;

export async function userById(
  ctx: Context,
  conn: AnyKysely,
  id: string,
  lock = false,
): Promise<UserRow | undefined> {
  return (await rows(conn, selectUser(ctx, sql`id = ${id}`, lock)))[0];
}

export async function userByKey(ctx: Context, conn: AnyKysely, key: StoreKey): Promise<UserRow | undefined> {
  return (await rows(conn, selectUser(ctx, identityIs(ctx, key.issuer, key.subject))))[0];
}

/** The `user.provisioned` event of a created row, when the caller asked for one. */
export async function provisionedEvent(ctx: Context, conn: AnyKysely, input: NewUser, userId: string) {
  if (input.emitEvent === undefined) return;
  await insertEvent(ctx, conn, {
    type: 'user.provisioned',
    userId,
    identity: input.emitEvent.identity,
    actor: input.emitEvent.actor ?? null,
    data: null,
  });
}

/**
 * Insert-if-absent: the new row's random id tells whether this call created it. Postgres and SQLite get
 * the row back from the INSERT itself (`ON CONFLICT DO NOTHING RETURNING`); MySQL has no RETURNING, so
 * `ON DUPLICATE KEY UPDATE id = id` (a no-op on the existing row) is followed by a read of the identity.
 */
async function insertIfAbsent(ctx: Context, conn: AnyKysely, input: NewUser): Promise<UserRow | undefined> {
  const id = randomUUID();
  if (ctx.d.name === 'mysql') {
    await insertUser(ctx, id, input, true).execute(conn);
    const row = await userById(ctx, conn, id);
    if (row !== undefined) await provisionedEvent(ctx, conn, input, id);
    return row;
  }
  const inserted = (
    await rows<UserRow>(
      conn,
      sql`${insertUser(ctx, id, input, true)} RETURNING ${ctx.d.select(USER_COLUMNS)}`,
    )
  )[0];
  if (inserted !== undefined) await provisionedEvent(ctx, conn, input, id);
  return inserted;
}

export async function syncRow(
  ctx: Context,
  conn: AnyKysely,
  userId: string,
  patch: UserPatch,
): Promise<UserRecord> {
  const { d, T } = ctx;
  const sets = [];
  if (patch.email !== undefined) sets.push(sql`email = ${patch.email}`);
  if (patch.name !== undefined) sets.push(sql`name = ${patch.name}`);
  if (sets.length > 0) {
    const current = await userById(ctx, conn, userId);
    if (current === undefined) throw new UserNotFoundError();
    const differs =
      (patch.email !== undefined && patch.email !== current.email) ||
      (patch.name !== undefined && patch.name !== current.name);
    if (differs)
      await sql`UPDATE ${T.users} SET ${sql.join(sets)}, updated_at = ${d.now} WHERE id = ${userId}`.execute(
        conn,
      );
  }
  const row = await userById(ctx, conn, userId);
  if (row === undefined) throw new UserNotFoundError();
  return toUser(d, row);
}

/**
 * A first login's bind (decision 0008): the issuer's unbound row with this externalId gets the subject and
 * username in one statement (of racing logins exactly one binds; the others then find it bound to their
 * subject). Answers the row when it is (now) bound to `key.subject`, 'other' when bound to another subject,
 * undefined when no row holds the externalId.
 */
export async function bindRow(
  ctx: Context,
  key: StoreKey & { externalId: string; username: string },
): Promise<UserRow | 'other' | undefined> {
  const holds = externalIdIs(ctx, key.issuer, key.externalId);
  try {
    await sql`UPDATE ${ctx.T.users} SET subject = ${key.subject}, username = ${key.username}, updated_at = ${ctx.d.now}
              WHERE ${holds} AND subject IS NULL`.execute(ctx.db);
  } catch (error) {
    // Another row already has this subject (or username): the unbound row cannot become this identity.
    if (isUniqueViolation(error)) return 'other';
    throw error;
  }
  const holder = (await rows(ctx.db, selectUser(ctx, holds)))[0];
  if (holder === undefined) return undefined;
  return holder.subject === key.subject ? holder : 'other';
}

/** `Store.upsert`: exactly one of any number of racing callers, in any number of processes, creates. */
export async function upsertUser(
  ctx: Context,
  input: NewUser,
): Promise<{ user: UserRecord; created: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted =
      input.emitEvent === undefined
        ? await insertIfAbsent(ctx, ctx.db, input)
        : await transaction(ctx, (conn) => insertIfAbsent(ctx, conn, input));
    if (inserted !== undefined) return { user: toUser(ctx.d, inserted), created: true };
    const existing = await userByKey(ctx, ctx.db, input);
    if (existing !== undefined) {
      const user = toUser(ctx.d, existing);
      const patch = profileChanges(user, input);
      return {
        user: patch === undefined ? user : await syncRow(ctx, ctx.db, existing.id, patch),
        created: false,
      };
    }
    // The insert met the externalId of a row SCIM created before this first login: bind it.
    if (input.externalId !== undefined) {
      const bound = await bindRow(ctx, { ...input, externalId: input.externalId });
      if (bound === 'other')
        throw new ScimConflictError('externalId', 'another user of this issuer has this externalId');
      if (bound !== undefined) {
        const user = toUser(ctx.d, bound);
        const patch = profileChanges(user, input);
        return {
          user: patch === undefined ? user : await syncRow(ctx, ctx.db, bound.id, patch),
          created: false,
        };
      }
    }
    const owner = await rows(
      ctx.db,
      sql`SELECT 1 AS one FROM ${ctx.T.users} WHERE username = ${input.username}`,
    );
    if (owner.length > 0) throw new ReservationConflictError('the username belongs to another identity');
  }
  throw new StoreUnavailableError('upsert did not settle after 3 attempts');
}
