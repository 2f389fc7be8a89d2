import {
  ReservationConflictError,
  ScimConflictError,
  type ScimGroupRecord,
  type ScimUserRecord,
  type ScimUserWrite,
} from '@jit-provision/core';
import { sqlState } from './pg-errors';
import { toUser, type UserRow, userColumnsOf } from './rows';
import type { Column, FilterTarget } from './scim-filter';

/** A `users` row joined with its `scim_users` row (aliases `u` and `su`). */
export type ScimUserRow = UserRow & {
  scim_user_name: string;
  scim_attributes: Record<string, unknown>;
  scim_version: number;
  scim_created_at: Date;
  scim_last_modified: Date;
};

/** The select list of {@link ScimUserRow}. */
export const SCIM_USER_COLUMNS = `${userColumnsOf('u')}, su.user_name AS scim_user_name,
  su.attributes AS scim_attributes, su.version AS scim_version, su.created_at AS scim_created_at,
  su.last_modified AS scim_last_modified`;

export const toScimUser = (row: ScimUserRow): ScimUserRecord => ({
  user: toUser(row),
  userName: row.scim_user_name,
  attributes: row.scim_attributes,
  version: row.scim_version,
  createdAt: row.scim_created_at,
  lastModified: row.scim_last_modified,
});

export interface ScimGroupRow {
  id: string;
  issuer: string;
  display_name: string;
  external_id: string | null;
  attributes: Record<string, unknown>;
  members: string[];
  version: number;
  created_at: Date;
  last_modified: Date;
}

/**
 * The select list of {@link ScimGroupRow} over `scim_groups g`: members are the group's users that are not
 * hidden (a hidden user is absent from every SCIM read), in id order.
 */
export const scimGroupColumns = (s: string) => `g.id::text AS id, g.issuer, g.display_name, g.external_id,
  g.attributes, g.version, g.created_at, g.last_modified,
  ARRAY(SELECT m.user_id FROM ${s}.scim_members m
        WHERE m.group_id = g.id
          AND NOT EXISTS (SELECT 1 FROM ${s}.scim_users h WHERE h.user_id = m.user_id AND h.hidden)
        ORDER BY m.user_id) AS members`;

export const toScimGroup = (row: ScimGroupRow): ScimGroupRecord => ({
  id: row.id,
  issuer: row.issuer,
  displayName: row.display_name,
  externalId: row.external_id,
  attributes: row.attributes,
  members: row.members,
  version: row.version,
  createdAt: row.created_at,
  lastModified: row.last_modified,
});

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The filterable columns of a write, read from its attributes as written, then the attributes as JSON:
 * parameters user_name, display_name, given_name, family_name, formatted_name, attributes.
 */
export function scimUserValues(write: ScimUserWrite): [string, ...Array<string | null>] {
  const name = write.attributes['name'];
  const parts = typeof name === 'object' && name !== null ? (name as Record<string, unknown>) : {};
  return [
    write.userName,
    text(write.attributes['displayName']),
    text(parts['givenName']),
    text(parts['familyName']),
    text(parts['formatted']),
    JSON.stringify(write.attributes),
  ];
}

/** The User attributes a filter may name, over `scim_users su` joined with `users u`. */
export const userFilterTarget = (): FilterTarget => ({
  columns: {
    id: { sql: 'su.user_id', kind: 'exact' },
    userName: { sql: 'su.user_name', kind: 'text' },
    externalId: { sql: 'u.external_id', kind: 'exact' },
    displayName: { sql: 'su.display_name', kind: 'text' },
    active: { sql: `(u.status = 'active')`, kind: 'boolean' },
    'name.givenName': { sql: 'su.given_name', kind: 'text' },
    'name.familyName': { sql: 'su.family_name', kind: 'text' },
    'name.formatted': { sql: 'su.formatted_name', kind: 'text' },
    'meta.created': { sql: 'su.created_at', kind: 'date' },
    'meta.lastModified': { sql: 'su.last_modified', kind: 'date' },
  },
  multiValued: {
    emails: {
      columns: elementColumns(
        'e.el',
        `CASE lower(e.el->>'primary') WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END`,
      ),
      // Only an array holds elements; anything else written under `emails` has none (and must not fail).
      exists: (where) => `SELECT 1 FROM jsonb_array_elements(
          CASE WHEN jsonb_typeof(su.attributes->'emails') = 'array' THEN su.attributes->'emails' ELSE '[]'::jsonb END
        ) AS e(el) WHERE ${where}`,
    },
  },
});

function elementColumns(element: string, primary: string): Record<string, Column> {
  return {
    value: { sql: `(${element}->>'value')`, kind: 'text' },
    type: { sql: `(${element}->>'type')`, kind: 'text' },
    display: { sql: `(${element}->>'display')`, kind: 'text' },
    primary: { sql: primary, kind: 'boolean' },
  };
}

/** The Group attributes a filter may name, over `scim_groups g`; `members` are the visible member users. */
export const groupFilterTarget = (s: string): FilterTarget => ({
  columns: {
    id: { sql: 'g.id', kind: 'uuid' },
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
        type: { sql: `'User'::text`, kind: 'text' },
        primary: { sql: 'NULL::boolean', kind: 'boolean' },
      },
      exists: (where) => `SELECT 1 FROM ${s}.scim_members m
          LEFT JOIN ${s}.scim_users mu ON mu.user_id = m.user_id
          WHERE m.group_id = g.id AND mu.hidden IS NOT TRUE AND ${where}`,
    },
  },
});

/** Which unique attribute a unique violation (23505) is about, by the index that raised it. */
const UNIQUE_INDEXES: Record<string, 'userName' | 'externalId' | 'displayName'> = {
  scim_users_user_name_key: 'userName',
  users_issuer_external_id_key: 'externalId',
  users_issuer_subject_key: 'externalId',
  scim_groups_display_name_key: 'displayName',
};

/** A unique violation of a SCIM write as the core error it means; anything else as it was. */
export function scimWriteError(error: unknown): unknown {
  if (sqlState(error) !== '23505') return error;
  const constraint = (error as { constraint?: unknown }).constraint;
  const attribute = typeof constraint === 'string' ? UNIQUE_INDEXES[constraint] : undefined;
  if (attribute !== undefined) return new ScimConflictError(attribute);
  return new ReservationConflictError('the username belongs to another identity');
}
