import {
  ReservationConflictError,
  ScimConflictError,
  type ScimGroupRecord,
  type ScimUniqueAttribute,
  type ScimUserRecord,
  type ScimUserWrite,
} from '@jit-provision/core';
import { type RawBuilder, sql } from 'kysely';
import type { Context } from './context';
import type { Sql } from './dialect';
import { isUniqueViolation } from './errors';
import { toUser, USER_COLUMNS, type UserRow } from './rows';
import type { FilterTarget } from './scim-filter';

/** A `users` row (alias `u`) joined with its `scim_users` row (alias `su`). */
export type ScimUserRow = UserRow & {
  scim_user_name: string;
  scim_attributes: string | Record<string, unknown>;
  scim_version: number | string;
  scim_created_at: unknown;
  scim_last_modified: unknown;
};

/** `expr AS alias`, a time as `readTime` reads it exactly (MySQL DATETIME as UTC text). */
const timeAs = (d: Sql, expr: string, alias: string) =>
  d.name === 'mysql' ? `DATE_FORMAT(${expr}, '%Y-%m-%dT%H:%i:%s.%fZ') AS ${alias}` : `${expr} AS ${alias}`;

/** `SELECT … FROM scim_users su JOIN users u`: the start of every SCIM user read. */
export const selectScimUsers = (ctx: Context): RawBuilder<ScimUserRow> =>
  sql<ScimUserRow>`SELECT ${ctx.d.select(USER_COLUMNS, 'u')}, su.user_name AS scim_user_name,
    su.attributes AS scim_attributes, su.version AS scim_version,
    ${sql.raw(timeAs(ctx.d, 'su.created_at', 'scim_created_at'))},
    ${sql.raw(timeAs(ctx.d, 'su.last_modified', 'scim_last_modified'))}
    FROM ${ctx.T.scimUsers} su JOIN ${ctx.T.users} u ON u.id = su.user_id`;

const json = (v: string | Record<string, unknown>): Record<string, unknown> =>
  typeof v === 'string' ? (JSON.parse(v) as Record<string, unknown>) : v;

export const toScimUser = (d: Sql, row: ScimUserRow): ScimUserRecord => ({
  user: toUser(d, row),
  userName: row.scim_user_name,
  attributes: json(row.scim_attributes),
  version: Number(row.scim_version),
  createdAt: d.readTime(row.scim_created_at),
  lastModified: d.readTime(row.scim_last_modified),
});

export interface ScimGroupRow {
  id: string;
  issuer: string;
  display_name: string;
  external_id: string | null;
  attributes: string | Record<string, unknown>;
  version: number | string;
  created_at: unknown;
  last_modified: unknown;
}

/** The select list of {@link ScimGroupRow} over `scim_groups g`. */
export const GROUP_COLUMNS =
  'id, issuer, display_name, external_id, attributes, version, created_at, last_modified';

export const toScimGroup = (d: Sql, row: ScimGroupRow, members: string[]): ScimGroupRecord => ({
  id: row.id,
  issuer: row.issuer,
  displayName: row.display_name,
  externalId: row.external_id,
  attributes: json(row.attributes),
  members,
  version: Number(row.version),
  createdAt: d.readTime(row.created_at),
  lastModified: d.readTime(row.last_modified),
});

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The filterable columns of a write, read from its attributes as written, and the attributes as JSON. */
export function scimUserValues(write: ScimUserWrite) {
  const name = write.attributes['name'];
  const parts = typeof name === 'object' && name !== null ? (name as Record<string, unknown>) : {};
  return {
    userName: write.userName,
    displayName: text(write.attributes['displayName']),
    givenName: text(parts['givenName']),
    familyName: text(parts['familyName']),
    formatted: text(parts['formatted']),
    attributes: JSON.stringify(write.attributes),
  };
}

/** One row of `scim_emails`: an element of `emails` as a value-path filter reads it. */
export interface EmailRow {
  value: string | null;
  type: string | null;
  display: string | null;
  primary: number | null;
}

const scalar = (v: unknown): string | null =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;

/** The elements of `attributes.emails` (only an array has elements); `primary` also from `"True"`. */
export function emailRows(attributes: Readonly<Record<string, unknown>>): EmailRow[] {
  const emails = attributes['emails'];
  if (!Array.isArray(emails)) return [];
  return emails.map((el: unknown) => {
    const e = typeof el === 'object' && el !== null ? (el as Record<string, unknown>) : {};
    const primary = scalar(e['primary'])?.toLowerCase();
    return {
      value: scalar(e['value']),
      type: scalar(e['type']),
      display: scalar(e['display']),
      primary: primary === 'true' ? 1 : primary === 'false' ? 0 : null,
    };
  });
}

/** A NULL of integer type on every engine (a bare NULL has no type on Postgres). */
const NULL_INT = '(CASE WHEN 1 = 0 THEN 1 END)';

/** The User attributes a filter may name, over `scim_users su` joined with `users u`. */
export const userFilterTarget = (ctx: Context, issuer: string): FilterTarget => ({
  columns: {
    id: { sql: 'su.user_id', kind: 'exact' },
    userName: {
      sql: 'su.user_name',
      kind: 'text',
      // MySQL has no index on LOWER(user_name): `userName eq` (every provider's lookup) reads its hashed key.
      ...(ctx.d.name === 'mysql'
        ? {
            eqKey: (value: string) =>
              sql`su.user_name_key = UNHEX(SHA2(CONCAT(${issuer}, CHAR(0), LOWER(${value})), 256))`,
          }
        : {}),
    },
    externalId: { sql: 'u.external_id', kind: 'exact' },
    displayName: { sql: 'su.display_name', kind: 'text' },
    active: { sql: `(CASE WHEN u.status = 'active' THEN 1 ELSE 0 END)`, kind: 'boolean' },
    'name.givenName': { sql: 'su.given_name', kind: 'text' },
    'name.familyName': { sql: 'su.family_name', kind: 'text' },
    'name.formatted': { sql: 'su.formatted_name', kind: 'text' },
    'meta.created': { sql: 'su.created_at', kind: 'date' },
    'meta.lastModified': { sql: 'su.last_modified', kind: 'date' },
  },
  multiValued: {
    emails: {
      columns: {
        value: { sql: 'e.value', kind: 'text' },
        type: { sql: 'e.type', kind: 'text' },
        display: { sql: 'e.display', kind: 'text' },
        primary: { sql: 'e.is_primary', kind: 'boolean' },
      },
      exists: (where) => sql`SELECT 1 FROM ${ctx.T.scimEmails} e WHERE e.user_id = su.user_id AND ${where}`,
    },
  },
});

/** The Group attributes a filter may name, over `scim_groups g`; `members` are its visible member users. */
export const groupFilterTarget = (ctx: Context): FilterTarget => ({
  columns: {
    id: { sql: 'g.id', kind: 'exact' },
    displayName: { sql: 'g.display_name', kind: 'text' },
    externalId: { sql: 'g.external_id', kind: 'exact' },
    'meta.created': { sql: 'g.created_at', kind: 'date' },
    'meta.lastModified': { sql: 'g.last_modified', kind: 'date' },
  },
  multiValued: {
    members: {
      columns: {
        value: { sql: 'm.user_id', kind: 'exact' },
        display: { sql: 'COALESCE(mu.display_name, mu.user_name)', kind: 'text' },
        type: { sql: `'User'`, kind: 'text' },
        primary: { sql: NULL_INT, kind: 'boolean' },
      },
      exists: (where) => sql`SELECT 1 FROM ${ctx.T.scimMembers} m
          LEFT JOIN ${ctx.T.scimUsers} mu ON mu.user_id = m.user_id
          WHERE m.group_id = g.id AND COALESCE(mu.hidden, 0) = 0 AND ${where}`,
    },
  },
});

/**
 * Which unique attribute a unique violation is about, by the index named in the error (Postgres gives the
 * constraint; MySQL and SQLite name the key or its columns in the message). Checked in this order.
 */
const UNIQUE_KEYS: Array<[RegExp, ScimUniqueAttribute | 'username']> = [
  [/scim_users_user_name_key/, 'userName'],
  [/scim_groups_display_name_key/, 'displayName'],
  [/users_username_key|users\.username/, 'username'],
  [/external_id|identity_key|issuer_subject_key|users\.subject/, 'externalId'],
];

/** A unique violation of a SCIM write as the core error it means; anything else as it was. */
export function scimWriteError(error: unknown): unknown {
  if (!isUniqueViolation(error)) return error;
  const constraint = (error as { constraint?: unknown }).constraint;
  const said = `${typeof constraint === 'string' ? constraint : ''} ${error instanceof Error ? error.message : ''}`;
  const attribute = UNIQUE_KEYS.find(([pattern]) => pattern.test(said))?.[1];
  if (attribute === undefined || attribute === 'username')
    return new ReservationConflictError('the username belongs to another identity');
  return new ScimConflictError(attribute);
}
