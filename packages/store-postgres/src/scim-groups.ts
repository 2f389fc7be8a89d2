import {
  ScimConflictError,
  type ScimGroupRecord,
  type ScimGroupWrite,
  type ScimStore,
} from '@jit-provision/core';
import type { PoolClient } from 'pg';
import type { Executor } from './executor';
import { compileScimFilter, SqlParams } from './scim-filter';
import {
  groupFilterTarget,
  type ScimGroupRow,
  scimGroupColumns,
  scimWriteError,
  toScimGroup,
} from './scim-rows';

type GroupPart = Pick<
  ScimStore,
  'createGroup' | 'getGroup' | 'findGroups' | 'replaceGroup' | 'changeMembers' | 'deleteGroup' | 'groupsOf'
>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A group id is a uuid: any other id names no group (and must not reach a `::uuid` cast, which would fail). */
const isGroupId = (id: string) => UUID.test(id);

/**
 * Add members `$2` (user ids) to group `$1`: only users of the group's issuer that are not hidden from SCIM;
 * other ids (unknown, another issuer's) are ignored.
 */
const addMembers = (s: string) => `
  INSERT INTO ${s}.scim_members (group_id, user_id)
  SELECT g.id, u.id FROM ${s}.scim_groups g
  JOIN ${s}.users u ON u.issuer = g.issuer AND u.id = ANY($2::text[])
  WHERE g.id = $1
    AND NOT EXISTS (SELECT 1 FROM ${s}.scim_users h WHERE h.user_id = u.id AND h.hidden)
  ON CONFLICT DO NOTHING`;

/** The group as this transaction left it. */
async function readGroup(c: PoolClient, s: string, id: string): Promise<ScimGroupRecord> {
  const { rows } = await c.query<ScimGroupRow>(
    `SELECT ${scimGroupColumns(s)} FROM ${s}.scim_groups g WHERE g.id = $1`,
    [id],
  );
  return toScimGroup(rows[0] as ScimGroupRow);
}

/** Lock the issuer's group for a change; false when there is none, ScimConflictError on a stale `ifVersion`. */
async function lockGroup(c: PoolClient, s: string, issuer: string, id: string, ifVersion?: number) {
  if (!isGroupId(id)) return false;
  const { rows } = await c.query<{ version: number }>(
    `SELECT version FROM ${s}.scim_groups WHERE id = $2 AND issuer = $1 FOR UPDATE`,
    [issuer, id],
  );
  if (rows[0] === undefined) return false;
  if (ifVersion !== undefined && rows[0].version !== ifVersion) throw new ScimConflictError('version');
  return true;
}

const bump = (s: string) =>
  `UPDATE ${s}.scim_groups SET version = version + 1, last_modified = now() WHERE id = $1`;

/** Run a group write in a transaction, its unique violations as `ScimConflictError`. */
async function write<T>(db: Executor, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(fn);
  } catch (error) {
    throw scimWriteError(error);
  }
}

const groupValues = (w: ScimGroupWrite) => [w.displayName, w.externalId, JSON.stringify(w.attributes)];

/** The SCIM group methods over `scim_groups` + `scim_members` (schema `s`, quoted). */
export function scimGroupPart(db: Executor, s: string): GroupPart {
  return {
    createGroup: (issuer, w) =>
      write(db, async (c) => {
        const { rows } = await c.query<{ id: string }>(
          `INSERT INTO ${s}.scim_groups (issuer, display_name, external_id, attributes)
           VALUES ($1, $2, $3, $4::jsonb) RETURNING id::text AS id`,
          [issuer, ...groupValues(w)],
        );
        const id = (rows[0] as { id: string }).id;
        if (w.members !== undefined && w.members.length > 0) await c.query(addMembers(s), [id, w.members]);
        return readGroup(c, s, id);
      }),

    async getGroup(issuer, id) {
      if (!isGroupId(id)) return null;
      const rows = await db.rows<ScimGroupRow>(
        {
          text: `SELECT ${scimGroupColumns(s)} FROM ${s}.scim_groups g WHERE g.id = $2 AND g.issuer = $1`,
          values: [issuer, id],
        },
        { retry: true },
      );
      return rows[0] === undefined ? null : toScimGroup(rows[0]);
    },

    async findGroups(issuer, query) {
      const params = new SqlParams([issuer]);
      const where =
        query.filter === undefined ? 'TRUE' : compileScimFilter(query.filter, groupFilterTarget(s), params);
      const from = `FROM ${s}.scim_groups g WHERE g.issuer = $1 AND ${where}`;
      const n = params.values.length;
      const [totals, rows] = await Promise.all([
        db.rows<{ total: string }>(
          { text: `SELECT count(*) AS total ${from}`, values: params.values },
          { retry: true },
        ),
        query.count <= 0
          ? Promise.resolve([])
          : db.rows<ScimGroupRow>(
              {
                text: `SELECT ${scimGroupColumns(s)} ${from} ORDER BY g.created_at, g.id OFFSET $${n + 1} LIMIT $${n + 2}`,
                values: [...params.values, Math.max(1, query.startIndex) - 1, query.count],
              },
              { retry: true },
            ),
      ]);
      return { totalResults: Number(totals[0]?.total ?? 0), resources: rows.map(toScimGroup) };
    },

    replaceGroup: (issuer, id, w, options) =>
      write(db, async (c) => {
        if (!(await lockGroup(c, s, issuer, id, options?.ifVersion))) return null;
        await c.query(
          `UPDATE ${s}.scim_groups SET display_name = $2, external_id = $3, attributes = $4::jsonb,
             version = version + 1, last_modified = now()
           WHERE id = $1`,
          [id, ...groupValues(w)],
        );
        if (w.members !== undefined) {
          await c.query(`DELETE FROM ${s}.scim_members WHERE group_id = $1`, [id]);
          if (w.members.length > 0) await c.query(addMembers(s), [id, w.members]);
        }
        return readGroup(c, s, id);
      }),

    changeMembers: (issuer, id, change) =>
      write(db, async (c) => {
        if (!(await lockGroup(c, s, issuer, id))) return null;
        if (change.remove !== undefined && change.remove.length > 0) {
          await c.query(`DELETE FROM ${s}.scim_members WHERE group_id = $1 AND user_id = ANY($2::text[])`, [
            id,
            change.remove,
          ]);
        }
        if (change.add !== undefined && change.add.length > 0) await c.query(addMembers(s), [id, change.add]);
        await c.query(bump(s), [id]);
        return readGroup(c, s, id);
      }),

    async deleteGroup(issuer, id) {
      if (!isGroupId(id)) return false;
      const rows = await db.rows({
        text: `DELETE FROM ${s}.scim_groups WHERE id = $2 AND issuer = $1 RETURNING 1`,
        values: [issuer, id],
      });
      return rows.length > 0;
    },

    async groupsOf(issuer, userId) {
      // A hidden user is absent from every SCIM read, memberships included.
      const rows = await db.rows<ScimGroupRow>(
        {
          text: `SELECT ${scimGroupColumns(s)} FROM ${s}.scim_groups g
                 JOIN ${s}.scim_members m ON m.group_id = g.id AND m.user_id = $2
                 WHERE g.issuer = $1
                   AND NOT EXISTS (SELECT 1 FROM ${s}.scim_users h WHERE h.user_id = $2 AND h.hidden)
                 ORDER BY g.created_at, g.id`,
          values: [issuer, userId],
        },
        { retry: true },
      );
      return rows.map(toScimGroup);
    },
  };
}
