import { randomUUID } from 'node:crypto';
import {
  ReservationConflictError,
  ScimConflictError,
  type ScimNewUser,
  type ScimPage,
  type ScimPageQuery,
  type ScimUserFilterAttribute,
  type ScimUserRecord,
  type ScimUserWrite,
  StoreUnavailableError,
  type UserEventInput,
} from '@jit-provision/core';
import { sql } from 'kysely';
import {
  affected,
  type Context,
  externalIdIs,
  forUpdate,
  identityIs,
  issuerIs,
  rows,
  scimNow,
  transaction,
} from './context';
import type { AnyKysely } from './dialect';
import { insertEvent } from './outbox';
import { USER_COLUMNS, type UserRow } from './rows';
import { compileScimFilter } from './scim-filter';
import {
  emailRows,
  type ScimUserRow,
  scimUserValues,
  scimWriteError,
  selectScimUsers,
  toScimUser,
  userFilterTarget,
} from './scim-rows';
import { userById } from './users';

/** Run a SCIM write in one transaction, its unique violations as `ScimConflictError`. */
export async function scimWrite<T>(ctx: Context, fn: (conn: AnyKysely) => Promise<T>): Promise<T> {
  try {
    return await transaction(ctx, fn);
  } catch (error) {
    throw scimWriteError(error);
  }
}

/** The visible SCIM user `id` of `issuer`, read on `conn`. */
async function readScimUser(ctx: Context, conn: AnyKysely, issuer: string, id: string) {
  const found = await rows(
    conn,
    sql<ScimUserRow>`${selectScimUsers(ctx)} WHERE su.user_id = ${id} AND ${issuerIs(ctx, 'su', issuer)} AND su.hidden = 0`,
  );
  return found[0] === undefined ? null : toScimUser(ctx.d, found[0]);
}

/** Replace the `scim_emails` rows of `userId` with the elements of `attributes.emails`. */
async function writeEmails(
  ctx: Context,
  conn: AnyKysely,
  userId: string,
  attributes: ScimUserWrite['attributes'],
) {
  await sql`DELETE FROM ${ctx.T.scimEmails} WHERE user_id = ${userId}`.execute(conn);
  const emails = emailRows(attributes);
  if (emails.length === 0) return;
  const values = emails.map((e) => sql`(${userId}, ${e.value}, ${e.type}, ${e.display}, ${e.primary})`);
  await sql`INSERT INTO ${ctx.T.scimEmails} (user_id, value, type, display, is_primary)
            VALUES ${sql.join(values)}`.execute(conn);
}

/**
 * Write the SCIM side of `userId` (attributes as written, filterable columns, emails): an update that shows a
 * hidden row again and bumps its version, or the first insert (version 1).
 */
async function writeScimRow(
  ctx: Context,
  conn: AnyKysely,
  userId: string,
  issuer: string,
  write: ScimUserWrite,
) {
  const v = scimUserValues(write);
  const now = scimNow(ctx);
  const updated = await affected(
    conn,
    sql`UPDATE ${ctx.T.scimUsers} SET user_name = ${v.userName}, display_name = ${v.displayName},
          given_name = ${v.givenName}, family_name = ${v.familyName}, formatted_name = ${v.formatted},
          attributes = ${v.attributes}, hidden = 0, version = version + 1, last_modified = ${now}
        WHERE user_id = ${userId}`,
  );
  if (updated === 0)
    await sql`INSERT INTO ${ctx.T.scimUsers} (user_id, issuer, user_name, display_name, given_name, family_name,
                formatted_name, attributes, version, created_at, last_modified, hidden)
              VALUES (${userId}, ${issuer}, ${v.userName}, ${v.displayName}, ${v.givenName}, ${v.familyName},
                ${v.formatted}, ${v.attributes}, 1, ${now}, ${now}, 0)`.execute(conn);
  await writeEmails(ctx, conn, userId, write.attributes);
}

/** Insert the row of a SCIM create unless a unique key holds it already; the row when this call created it. */
async function insertRow(ctx: Context, conn: AnyKysely, input: ScimNewUser): Promise<UserRow | undefined> {
  const { d, T } = ctx;
  const id = randomUUID();
  const conflict = d.name === 'mysql' ? sql`ON DUPLICATE KEY UPDATE id = id` : sql`ON CONFLICT DO NOTHING`;
  const insert = sql`INSERT INTO ${T.users}
      (id, issuer, subject, username, email, name, role, tenant_id, external_id, role_source, created_at, updated_at)
    VALUES (${id}, ${input.issuer}, ${input.subject}, ${input.username}, ${input.email}, ${input.name},
      ${input.role}, NULL, ${input.externalId}, ${input.roleSource ?? 'default'}, ${d.now}, ${d.now})
    ${conflict}`;
  if (d.name !== 'mysql')
    return (await rows<UserRow>(conn, sql`${insert} RETURNING ${d.select(USER_COLUMNS)}`))[0];
  await insert.execute(conn);
  return userById(ctx, conn, id);
}

/**
 * The row a conflicting create may adopt, locked: the issuer's row with this externalId (a first login, or a
 * hidden SCIM user), else the row of the given subject. Raises when it is bound to another identity, or when
 * only the username was taken; undefined when the conflicting row is gone (the caller tries again).
 */
async function adoptable(ctx: Context, conn: AnyKysely, input: ScimNewUser): Promise<UserRow | undefined> {
  const lock = async (where: ReturnType<typeof sql>) =>
    (
      await rows<UserRow>(
        conn,
        sql`SELECT ${ctx.userColumns} FROM ${ctx.T.users} WHERE ${where}${forUpdate(ctx)}`,
      )
    )[0];
  if (input.externalId !== null) {
    const row = await lock(externalIdIs(ctx, input.issuer, input.externalId));
    if (row !== undefined) {
      if (input.subject !== null && row.subject !== null && row.subject !== input.subject)
        throw new ScimConflictError('externalId');
      return row;
    }
  }
  if (input.subject !== null) {
    const row = await lock(identityIs(ctx, input.issuer, input.subject));
    if (row !== undefined) {
      if (row.external_id !== null && row.external_id !== input.externalId)
        throw new ScimConflictError('externalId');
      return row;
    }
  }
  const owner = await rows(conn, sql`SELECT 1 AS one FROM ${ctx.T.users} WHERE username = ${input.username}`);
  if (owner.length > 0) throw new ReservationConflictError('the username belongs to another identity');
  return undefined;
}

/**
 * Adopt `row` for SCIM: refused when a visible SCIM user holds it already; otherwise the profile is SCIM's,
 * and an unbound row given a subject is bound now.
 */
async function adopt(ctx: Context, conn: AnyKysely, row: UserRow, input: ScimNewUser): Promise<void> {
  const visible = await rows(
    conn,
    sql`SELECT 1 AS one FROM ${ctx.T.scimUsers} WHERE user_id = ${row.id} AND hidden = 0${forUpdate(ctx)}`,
  );
  if (visible.length > 0) throw new ScimConflictError('externalId');
  const sets = [sql`email = ${input.email}`, sql`name = ${input.name}`, sql`updated_at = ${ctx.d.now}`];
  if (row.subject === null && input.subject !== null)
    sets.push(sql`subject = ${input.subject}`, sql`username = ${input.username}`);
  if (row.external_id === null && input.externalId !== null)
    sets.push(sql`external_id = ${input.externalId}`);
  await sql`UPDATE ${ctx.T.users} SET ${sql.join(sets)} WHERE id = ${row.id}`.execute(conn);
}

/** One attempt of createUser in one transaction; undefined when the conflicting row vanished meanwhile. */
async function createOnce(ctx: Context, conn: AnyKysely, input: ScimNewUser) {
  const inserted = await insertRow(ctx, conn, input);
  let id = inserted?.id;
  if (id === undefined) {
    const found = await adoptable(ctx, conn, input);
    if (found === undefined) return undefined;
    await adopt(ctx, conn, found, input);
    id = found.id;
  }
  await writeScimRow(ctx, conn, id, input.issuer, input);
  if (inserted !== undefined && input.emitEvent !== undefined)
    await insertEvent(ctx, conn, {
      type: 'user.provisioned',
      userId: id,
      identity: input.emitEvent.identity,
      actor: input.emitEvent.actor ?? null,
      data: null,
    });
  const record = (await readScimUser(ctx, conn, input.issuer, id)) as ScimUserRecord;
  return { record, created: inserted !== undefined };
}

/** `scim.createUser`: a new row, or the adopted one; exactly once among racers (unique keys arbitrate). */
export async function createScimUser(ctx: Context, input: ScimNewUser) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const outcome = await scimWrite(ctx, (conn) => createOnce(ctx, conn, input));
    if (outcome !== undefined) return outcome;
  }
  throw new StoreUnavailableError('createUser did not settle after 3 attempts');
}

export const getScimUser = (ctx: Context, issuer: string, id: string) =>
  readScimUser(ctx, ctx.db, issuer, id);

/** `scim.findUsers`: COUNT and one page in (created_at, id) order, the filter compiled to parameters. */
export async function findScimUsers(
  ctx: Context,
  issuer: string,
  query: ScimPageQuery<ScimUserFilterAttribute>,
): Promise<ScimPage<ScimUserRecord>> {
  const filter =
    query.filter === undefined
      ? sql`TRUE`
      : compileScimFilter(ctx.d, query.filter, userFilterTarget(ctx, issuer));
  const where = sql`${issuerIs(ctx, 'su', issuer)} AND su.hidden = 0 AND ${filter}`;
  const count = rows<{ total: number | string }>(
    ctx.db,
    sql`SELECT COUNT(*) AS total FROM ${ctx.T.scimUsers} su JOIN ${ctx.T.users} u ON u.id = su.user_id WHERE ${where}`,
  );
  // Postgres would order ids by the database's locale; byte order is what every engine agrees on.
  const byId = sql.raw(ctx.d.name === 'postgres' ? 'su.user_id COLLATE "C"' : 'su.user_id');
  const page =
    query.count <= 0
      ? Promise.resolve([] as ScimUserRow[])
      : rows(
          ctx.db,
          sql<ScimUserRow>`${selectScimUsers(ctx)} WHERE ${where} ORDER BY su.created_at, ${byId}
              LIMIT ${query.count} OFFSET ${Math.max(1, query.startIndex) - 1}`,
        );
  const [totals, found] = await Promise.all([count, page]);
  return { totalResults: Number(totals[0]?.total ?? 0), resources: found.map((r) => toScimUser(ctx.d, r)) };
}

/** The user row's profile from a SCIM replace: email, name, and externalId when the write has one. */
async function writeProfile(ctx: Context, conn: AnyKysely, id: string, write: ScimUserWrite) {
  const row = (await userById(ctx, conn, id, true)) as UserRow;
  const sets = [];
  if (row.email !== write.email) sets.push(sql`email = ${write.email}`);
  if (row.name !== write.name) sets.push(sql`name = ${write.name}`);
  // A null externalId keeps the row's join key: a PUT that leaves it out must not unlink the person.
  if (write.externalId !== null && row.external_id !== write.externalId)
    sets.push(sql`external_id = ${write.externalId}`);
  if (sets.length > 0)
    await sql`UPDATE ${ctx.T.users} SET ${sql.join(sets)}, updated_at = ${ctx.d.now} WHERE id = ${id}`.execute(
      conn,
    );
  return row;
}

/** `scim.replaceUser`: the SCIM row locked first, so `ifVersion` is checked against what is replaced. */
export function replaceScimUser(
  ctx: Context,
  issuer: string,
  id: string,
  write: ScimUserWrite,
  options: { ifVersion?: number | undefined; event?: UserEventInput | undefined } = {},
): Promise<ScimUserRecord | null> {
  return scimWrite(ctx, async (conn) => {
    const locked = await rows<{ version: number | string }>(
      conn,
      sql`SELECT version FROM ${ctx.T.scimUsers} su
          WHERE su.user_id = ${id} AND ${issuerIs(ctx, 'su', issuer)} AND su.hidden = 0${forUpdate(ctx)}`,
    );
    const current = locked[0];
    if (current === undefined) return null;
    if (options.ifVersion !== undefined && options.ifVersion !== Number(current.version))
      throw new ScimConflictError('version');
    // The SCIM row first: a userName taken by another user is the conflict to report, not the externalId.
    await writeScimRow(ctx, conn, id, issuer, write);
    const row = await writeProfile(ctx, conn, id, write);
    const event = options.event;
    if (event !== undefined)
      await insertEvent(ctx, conn, {
        type: event.type,
        userId: id,
        identity: { issuer: row.issuer, subject: row.subject ?? '' },
        actor: event.actor,
        data: event.data ?? null,
      });
    return readScimUser(ctx, conn, issuer, id);
  });
}

/** `scim.hideUser`: true when this call hid a visible user. */
export async function hideScimUser(ctx: Context, issuer: string, id: string): Promise<boolean> {
  const changed = await affected(
    ctx.db,
    sql`UPDATE ${ctx.T.scimUsers} SET hidden = 1, version = version + 1, last_modified = ${scimNow(ctx)}
        WHERE user_id = ${id} AND issuer = ${issuer} AND hidden = 0`,
  );
  return changed > 0;
}
