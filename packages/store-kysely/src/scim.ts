import type { ScimStore } from '@jit-provision/core';
import { sql } from 'kysely';
import { type Context, issuerIs, rows } from './context';
import { guard } from './errors';
import { toUser } from './rows';
import { scimGroupPart } from './scim-groups';
import { createScimUser, findScimUsers, getScimUser, hideScimUser, replaceScimUser } from './scim-users';
import { bindRow } from './users';

/** `status`: visible users and groups, and the last SCIM write (hidden users' included: a hide is a write). */
async function status(ctx: Context, issuer: string | undefined) {
  const { d, T } = ctx;
  const of = (alias: string) => (issuer === undefined ? sql`TRUE` : issuerIs(ctx, alias, issuer));
  const last = (alias: string) =>
    sql.raw(
      d.name === 'mysql'
        ? `DATE_FORMAT(MAX(${alias}.last_modified), '%Y-%m-%dT%H:%i:%s.%fZ')`
        : `MAX(${alias}.last_modified)`,
    );
  const found = await rows<{
    users: unknown;
    group_count: unknown;
    user_write: unknown;
    group_write: unknown;
  }>(
    ctx.db,
    sql`SELECT
          (SELECT COUNT(*) FROM ${T.scimUsers} su WHERE su.hidden = 0 AND ${of('su')}) AS users,
          (SELECT COUNT(*) FROM ${T.scimGroups} g WHERE ${of('g')}) AS group_count,
          (SELECT ${last('su')} FROM ${T.scimUsers} su WHERE ${of('su')}) AS user_write,
          (SELECT ${last('g')} FROM ${T.scimGroups} g WHERE ${of('g')}) AS group_write`,
  );
  const row = found[0];
  const writes = [row?.user_write, row?.group_write]
    .filter((v) => v !== null && v !== undefined)
    .map((v) => d.readTime(v).getTime());
  return {
    users: Number(row?.users ?? 0),
    groups: Number(row?.group_count ?? 0),
    lastWrite: writes.length === 0 ? null : new Date(Math.max(...writes)),
  };
}

/**
 * The SCIM part (decision 0008) on MySQL/MariaDB, SQLite and Postgres: users are the store's own `users`
 * rows plus a `scim_users` row holding the resource as written (and `scim_emails`, its emails, for value-path
 * filters); groups and memberships in `scim_groups`/`scim_members`. Filters are compiled to parameterised
 * SQL; every write that must happen once across processes is arbitrated by a unique key.
 */
export function createScimStore(ctx: Context): ScimStore {
  const groups = scimGroupPart(ctx);
  return {
    createUser: (input) => guard(() => createScimUser(ctx, input)),
    bind: (key) =>
      guard(async () => {
        const row = await bindRow(ctx, key);
        return row === undefined || row === 'other' ? null : toUser(ctx.d, row);
      }),
    getUser: (issuer, id) => guard(() => getScimUser(ctx, issuer, id)),
    findUsers: (issuer, query) => guard(() => findScimUsers(ctx, issuer, query)),
    replaceUser: (issuer, id, write, options) =>
      guard(() => replaceScimUser(ctx, issuer, id, write, options)),
    hideUser: (issuer, id) => guard(() => hideScimUser(ctx, issuer, id)),
    createGroup: (issuer, write) => guard(() => groups.createGroup(issuer, write)),
    getGroup: (issuer, id) => guard(() => groups.getGroup(issuer, id)),
    findGroups: (issuer, query) => guard(() => groups.findGroups(issuer, query)),
    replaceGroup: (issuer, id, write, options) =>
      guard(() => groups.replaceGroup(issuer, id, write, options)),
    changeMembers: (issuer, id, change) => guard(() => groups.changeMembers(issuer, id, change)),
    deleteGroup: (issuer, id) => guard(() => groups.deleteGroup(issuer, id)),
    groupsOf: (issuer, userId) => guard(() => groups.groupsOf(issuer, userId)),
    status: (issuer) => guard(() => status(ctx, issuer)),
  };
}
