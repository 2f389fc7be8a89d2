import { randomUUID } from 'node:crypto';
import {
  ScimConflictError,
  type ScimGroupRecord,
  type ScimGroupWrite,
  type ScimStore,
} from '@jit-provision/core';
import { sql } from 'kysely';
import { affected, type Context, forUpdate, issuerIs, rows, scimNow } from './context';
import type { AnyKysely } from './dialect';
import { compileScimFilter } from './scim-filter';
import { GROUP_COLUMNS, groupFilterTarget, type ScimGroupRow, toScimGroup } from './scim-rows';
import { scimWrite } from './scim-users';

type GroupPart = Pick<
  ScimStore,
  'createGroup' | 'getGroup' | 'findGroups' | 'replaceGroup' | 'changeMembers' | 'deleteGroup' | 'groupsOf'
>;

/** The visible members of `groups` (a hidden user is absent from every SCIM read), in id order. */
async function membersOf(ctx: Context, conn: AnyKysely, groups: ScimGroupRow[]): Promise<ScimGroupRecord[]> {
  if (groups.length === 0) return [];
  const found = await rows<{ group_id: string; user_id: string }>(
    conn,
    sql`SELECT m.group_id, m.user_id FROM ${ctx.T.scimMembers} m
        WHERE m.group_id IN (${sql.join(groups.map((g) => g.id))})
          AND NOT EXISTS (SELECT 1 FROM ${ctx.T.scimUsers} h WHERE h.user_id = m.user_id AND h.hidden = 1)`,
  );
  const byGroup = new Map<string, string[]>();
  for (const m of found) byGroup.set(m.group_id, [...(byGroup.get(m.group_id) ?? []), m.user_id]);
  return groups.map((g) =>
    toScimGroup(
      ctx.d,
      g,
      (byGroup.get(g.id) ?? []).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    ),
  );
}

const selectGroups = (ctx: Context) =>
  sql<ScimGroupRow>`SELECT ${ctx.d.select(GROUP_COLUMNS, 'g')} FROM ${ctx.T.scimGroups} g`;

async function readGroup(ctx: Context, conn: AnyKysely, issuer: string, id: string) {
  const found = await rows(
    conn,
    sql<ScimGroupRow>`${selectGroups(ctx)} WHERE g.id = ${id} AND ${issuerIs(ctx, 'g', issuer)}`,
  );
  return (await membersOf(ctx, conn, found))[0] ?? null;
}

/**
 * Add `userIds` to group `id`: only users of the group's issuer that are not hidden from SCIM; other ids
 * (unknown, another issuer's) are ignored, and so are members already there.
 */
async function addMembers(
  ctx: Context,
  conn: AnyKysely,
  issuer: string,
  id: string,
  userIds: readonly string[],
) {
  if (userIds.length === 0) return;
  const { d, T } = ctx;
  const conflict =
    d.name === 'mysql' ? sql`ON DUPLICATE KEY UPDATE group_id = group_id` : sql`ON CONFLICT DO NOTHING`;
  await sql`INSERT INTO ${T.scimMembers} (group_id, user_id)
      SELECT ${id}, u.id FROM ${T.users} u
      WHERE u.issuer = ${issuer} AND u.id IN (${sql.join([...new Set(userIds)])})
        AND NOT EXISTS (SELECT 1 FROM ${T.scimUsers} h WHERE h.user_id = u.id AND h.hidden = 1)
      ${conflict}`.execute(conn);
}

/** Lock the issuer's group for a change; false when there is none, ScimConflictError on a stale `ifVersion`. */
async function lockGroup(ctx: Context, conn: AnyKysely, issuer: string, id: string, ifVersion?: number) {
  const found = await rows<{ version: number | string }>(
    conn,
    sql`SELECT g.version FROM ${ctx.T.scimGroups} g WHERE g.id = ${id} AND ${issuerIs(ctx, 'g', issuer)}${forUpdate(ctx)}`,
  );
  if (found[0] === undefined) return false;
  if (ifVersion !== undefined && Number(found[0].version) !== ifVersion)
    throw new ScimConflictError('version');
  return true;
}

const bump = (ctx: Context, id: string) =>
  sql`UPDATE ${ctx.T.scimGroups} SET version = version + 1, last_modified = ${scimNow(ctx)} WHERE id = ${id}`;

/** A page of the issuer's groups in (created_at, id) order, and the count of all that match. */
async function findGroups(ctx: Context, issuer: string, query: Parameters<GroupPart['findGroups']>[1]) {
  const filter =
    query.filter === undefined ? sql`TRUE` : compileScimFilter(ctx.d, query.filter, groupFilterTarget(ctx));
  const where = sql`${issuerIs(ctx, 'g', issuer)} AND ${filter}`;
  const byId = sql.raw(ctx.d.name === 'postgres' ? 'g.id COLLATE "C"' : 'g.id');
  const [totals, found] = await Promise.all([
    rows<{ total: number | string }>(
      ctx.db,
      sql`SELECT COUNT(*) AS total FROM ${ctx.T.scimGroups} g WHERE ${where}`,
    ),
    query.count <= 0
      ? Promise.resolve([] as ScimGroupRow[])
      : rows(
          ctx.db,
          sql<ScimGroupRow>`${selectGroups(ctx)} WHERE ${where} ORDER BY g.created_at, ${byId}
              LIMIT ${query.count} OFFSET ${Math.max(1, query.startIndex) - 1}`,
        ),
  ]);
  return { totalResults: Number(totals[0]?.total ?? 0), resources: await membersOf(ctx, ctx.db, found) };
}

/** The SCIM group methods over `scim_groups` + `scim_members`. */
export function scimGroupPart(ctx: Context): GroupPart {
  const { T } = ctx;
  return {
    createGroup: (issuer, w: ScimGroupWrite) =>
      scimWrite(ctx, async (conn) => {
        const id = randomUUID();
        const now = scimNow(ctx);
        await sql`INSERT INTO ${T.scimGroups} (id, issuer, display_name, external_id, attributes, version, created_at, last_modified)
                  VALUES (${id}, ${issuer}, ${w.displayName}, ${w.externalId}, ${JSON.stringify(w.attributes)}, 1, ${now}, ${now})`.execute(
          conn,
        );
        await addMembers(ctx, conn, issuer, id, w.members ?? []);
        return (await readGroup(ctx, conn, issuer, id)) as ScimGroupRecord;
      }),

    getGroup: (issuer, id) => readGroup(ctx, ctx.db, issuer, id),

    findGroups: (issuer, query) => findGroups(ctx, issuer, query),

    replaceGroup: (issuer, id, w, options) =>
      scimWrite(ctx, async (conn) => {
        if (!(await lockGroup(ctx, conn, issuer, id, options?.ifVersion))) return null;
        await sql`UPDATE ${T.scimGroups} SET display_name = ${w.displayName}, external_id = ${w.externalId},
                    attributes = ${JSON.stringify(w.attributes)}, version = version + 1, last_modified = ${scimNow(ctx)}
                  WHERE id = ${id}`.execute(conn);
        if (w.members !== undefined) {
          await sql`DELETE FROM ${T.scimMembers} WHERE group_id = ${id}`.execute(conn);
          await addMembers(ctx, conn, issuer, id, w.members);
        }
        return readGroup(ctx, conn, issuer, id);
      }),

    changeMembers: (issuer, id, change) =>
      scimWrite(ctx, async (conn) => {
        if (!(await lockGroup(ctx, conn, issuer, id))) return null;
        const remove = change.remove ?? [];
        if (remove.length > 0)
          await sql`DELETE FROM ${T.scimMembers} WHERE group_id = ${id} AND user_id IN (${sql.join([...remove])})`.execute(
            conn,
          );
        await addMembers(ctx, conn, issuer, id, change.add ?? []);
        await bump(ctx, id).execute(conn);
        return readGroup(ctx, conn, issuer, id);
      }),

    deleteGroup: (issuer, id) =>
      scimWrite(ctx, async (conn) => {
        if (!(await lockGroup(ctx, conn, issuer, id))) return false;
        // SQLite's foreign keys are off unless the app turns them on: the memberships go explicitly.
        await sql`DELETE FROM ${T.scimMembers} WHERE group_id = ${id}`.execute(conn);
        return (await affected(conn, sql`DELETE FROM ${T.scimGroups} WHERE id = ${id}`)) > 0;
      }),

    async groupsOf(issuer, userId) {
      // A hidden user is absent from every SCIM read, memberships included.
      const found = await rows(
        ctx.db,
        sql<ScimGroupRow>`${selectGroups(ctx)} JOIN ${T.scimMembers} m ON m.group_id = g.id AND m.user_id = ${userId}
            WHERE ${issuerIs(ctx, 'g', issuer)}
              AND NOT EXISTS (SELECT 1 FROM ${T.scimUsers} h WHERE h.user_id = ${userId} AND h.hidden = 1)
            ORDER BY g.created_at, g.id`,
      );
      return membersOf(ctx, ctx.db, found);
    },
  };
}
