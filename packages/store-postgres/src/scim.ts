import type { ScimStore } from '@jit-provision/core';
import type { Executor } from './executor';
import { guard } from './pg-errors';
import { quoteSchema } from './schema-name';
import { scimGroupPart } from './scim-groups';
import { scimUserPart } from './scim-users';
import type { NameStatement } from './statement-name';
import type { UserRows } from './user-rows';

/** `status`: visible users and groups, and the last SCIM write (hidden users' included: a hide is a write). */
async function status(db: Executor, s: string, issuer: string | undefined) {
  const rows = await db.rows<{ users: string; groups: string; last_write: Date | null }>(
    {
      text: `SELECT
               (SELECT count(*) FROM ${s}.scim_users WHERE NOT hidden AND ($1::text IS NULL OR issuer = $1)) AS users,
               (SELECT count(*) FROM ${s}.scim_groups WHERE $1::text IS NULL OR issuer = $1) AS groups,
               GREATEST(
                 (SELECT max(last_modified) FROM ${s}.scim_users WHERE $1::text IS NULL OR issuer = $1),
                 (SELECT max(last_modified) FROM ${s}.scim_groups WHERE $1::text IS NULL OR issuer = $1)
               ) AS last_write`,
      values: [issuer ?? null],
    },
    { retry: true },
  );
  const row = rows[0];
  return {
    users: Number(row?.users ?? 0),
    groups: Number(row?.groups ?? 0),
    lastWrite: row?.last_write ?? null,
  };
}

/**
 * The Postgres SCIM part (decision 0008): users are the store's own `users` rows plus a `scim_users` row
 * holding the resource as written; groups and memberships in `scim_groups`/`scim_members`. Filters are
 * compiled to parameterised SQL (`scim-filter.ts`); every write that must be exactly once across processes
 * is arbitrated by a unique index. Driver errors surface as core errors, as everywhere in this store.
 */
export function createPostgresScimStore(
  db: Executor,
  schema: string,
  userRows: UserRows,
  named: NameStatement,
): ScimStore {
  const s = quoteSchema(schema);
  const users = scimUserPart(db, s, named);
  const groups = scimGroupPart(db, s);
  return {
    createUser: (input) => guard(() => users.createUser(input)),
    bind: (key) => userRows.bind(key),
    getUser: (issuer, id) => guard(() => users.getUser(issuer, id)),
    findUsers: (issuer, query) => guard(() => users.findUsers(issuer, query)),
    replaceUser: (issuer, id, write, options) => guard(() => users.replaceUser(issuer, id, write, options)),
    hideUser: (issuer, id) => guard(() => users.hideUser(issuer, id)),
    createGroup: (issuer, write) => guard(() => groups.createGroup(issuer, write)),
    getGroup: (issuer, id) => guard(() => groups.getGroup(issuer, id)),
    findGroups: (issuer, query) => guard(() => groups.findGroups(issuer, query)),
    replaceGroup: (issuer, id, write, options) =>
      guard(() => groups.replaceGroup(issuer, id, write, options)),
    changeMembers: (issuer, id, change) => guard(() => groups.changeMembers(issuer, id, change)),
    deleteGroup: (issuer, id) => guard(() => groups.deleteGroup(issuer, id)),
    groupsOf: (issuer, userId) => guard(() => groups.groupsOf(issuer, userId)),
    status: (issuer) => guard(() => status(db, s, issuer)),
  };
}
