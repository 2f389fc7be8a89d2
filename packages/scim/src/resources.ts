import type { ScimGroupRecord, ScimGroupWrite, ScimUserRecord, ScimUserWrite } from '@jit-provision/core';
import { invalidValue, ScimError } from './errors';
import { ENTERPRISE_URN, GROUP_URN, USER_URN } from './filter';

// User and Group JSON ↔ what core writes, and records → SCIM resources (RFC 7643 §4). Attribute names are
// case-insensitive on the way in; what the provider wrote is kept as written and answered back.

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The key of `object` named `name` case-insensitively (RFC 7643 §2.1), or undefined. */
export const keyOf = (object: Json, name: string): string | undefined => {
  const lower = name.toLowerCase();
  return Object.keys(object).find((key) => key.toLowerCase() === lower);
};

/** The value of `object`'s attribute `name`, case-insensitively. */
export const attr = (object: Json, name: string): unknown => {
  const key = keyOf(object, name);
  return key === undefined ? undefined : object[key];
};

/**
 * A boolean as providers write it: `true`, or Entra's `"True"`/`"False"` strings. Undefined when absent.
 *
 * @throws ScimError 400 `invalidValue` for anything else.
 */
export function lenientBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue(`${name} must be a boolean`);
}

/** Attributes answered from their own fields, never from the stored JSON. */
const USER_OWN = new Set(['id', 'meta', 'schemas', 'password', 'username', 'externalid', 'active', 'groups']);
const GROUP_OWN = new Set(['id', 'meta', 'schemas', 'displayname', 'externalid', 'members']);

const without = (body: Json, own: ReadonlySet<string>): Json => {
  const out: Json = {};
  for (const [key, value] of Object.entries(body))
    if (!own.has(key.toLowerCase()) && value !== null) out[key] = value;
  return out;
};

function optionalString(body: Json, name: string): string | null {
  const value = attr(body, name);
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalidValue(`${name} must be a string`);
  return value;
}

/** The email of the row: the primary email, else the first `work` one, else the first. */
export function primaryEmail(emails: unknown): string | null {
  if (!Array.isArray(emails)) return null;
  const valid = emails.filter(
    (email): email is Json => isObject(email) && typeof attr(email, 'value') === 'string',
  );
  const primary = (email: Json) => {
    const flag = attr(email, 'primary');
    return flag === true || (typeof flag === 'string' && flag.toLowerCase() === 'true');
  };
  const work = (email: Json) => String(attr(email, 'type') ?? '').toLowerCase() === 'work';
  const chosen = valid.find(primary) ?? valid.find(work) ?? valid[0];
  return chosen === undefined ? null : (attr(chosen, 'value') as string);
}

/** The display name of the row: `displayName`, else `name.formatted`, else given and family name. */
export function displayNameOf(body: Json): string | null {
  const display = attr(body, 'displayName');
  if (typeof display === 'string' && display.trim() !== '') return display;
  const name = attr(body, 'name');
  if (!isObject(name)) return null;
  const formatted = attr(name, 'formatted');
  if (typeof formatted === 'string' && formatted.trim() !== '') return formatted;
  const parts = [attr(name, 'givenName'), attr(name, 'familyName')].filter(
    (part): part is string => typeof part === 'string' && part.trim() !== '',
  );
  return parts.length === 0 ? null : parts.join(' ');
}

/** A User body (POST, PUT, or a PATCHed resource) as core's write, plus its `active` when given. */
export function parseUser(body: unknown): { write: ScimUserWrite; active: boolean | undefined } {
  if (!isObject(body)) throw new ScimError(400, 'The body must be a User resource', 'invalidSyntax');
  const userName = attr(body, 'userName');
  if (typeof userName !== 'string' || userName.trim() === '') throw invalidValue('userName is required');
  const attributes = without(body, USER_OWN);
  return {
    write: {
      userName,
      externalId: optionalString(body, 'externalId'),
      attributes,
      email: primaryEmail(attr(body, 'emails')),
      name: displayNameOf(body),
    },
    active: lenientBoolean(attr(body, 'active'), 'active'),
  };
}

/** A Group body as core's write; `members` only when the body has them. */
export function parseGroup(body: unknown): ScimGroupWrite {
  if (!isObject(body)) throw new ScimError(400, 'The body must be a Group resource', 'invalidSyntax');
  const displayName = attr(body, 'displayName');
  if (typeof displayName !== 'string' || displayName.trim() === '')
    throw invalidValue('displayName is required');
  const members = attr(body, 'members');
  return {
    displayName,
    externalId: optionalString(body, 'externalId'),
    attributes: without(body, GROUP_OWN),
    ...(members === undefined || members === null ? {} : { members: memberIds(members) }),
  };
}

/** The user ids of a `members` value: `[{ value }]`. */
export function memberIds(members: unknown): string[] {
  const list = Array.isArray(members) ? members : [members];
  return list.map((member) => {
    const value = isObject(member) ? attr(member, 'value') : undefined;
    if (typeof value !== 'string' || value === '') throw invalidValue('members[].value must be a user id');
    return value;
  });
}

/** Where the resources live: `baseUrl` (absolute) or, without it, a reference relative to the SCIM root. */
export interface ResourceContext {
  baseUrl: string | undefined;
}

export const locationOf = (ctx: ResourceContext, kind: 'Users' | 'Groups', id: string): string =>
  `${ctx.baseUrl === undefined ? '' : `${ctx.baseUrl}/`}${kind}/${encodeURIComponent(id)}`;

export const etagOf = (version: number): string => `W/"${version}"`;

const meta = (
  ctx: ResourceContext,
  kind: 'User' | 'Group',
  record: { createdAt: Date; lastModified: Date; version: number },
  id: string,
) => ({
  resourceType: kind,
  created: record.createdAt.toISOString(),
  lastModified: record.lastModified.toISOString(),
  location: locationOf(ctx, kind === 'User' ? 'Users' : 'Groups', id),
  version: etagOf(record.version),
});

/** A user record as its SCIM resource; `groups` (read-only) when the caller looked them up. */
export function renderUser(
  ctx: ResourceContext,
  record: ScimUserRecord,
  groups?: readonly ScimGroupRecord[],
): Json {
  const { user } = record;
  const schemas = [USER_URN];
  if (keyOf(record.attributes as Json, ENTERPRISE_URN) !== undefined) schemas.push(ENTERPRISE_URN);
  return {
    schemas,
    id: user.id,
    ...(user.externalId === null ? {} : { externalId: user.externalId }),
    userName: record.userName,
    ...without(record.attributes as Json, USER_OWN),
    active: user.status !== 'disabled',
    ...(groups === undefined
      ? {}
      : { groups: groups.map((group) => ({ value: group.id, display: group.displayName, type: 'direct' })) }),
    meta: meta(ctx, 'User', record, user.id),
  };
}

/** A group record as its SCIM resource. */
export function renderGroup(ctx: ResourceContext, record: ScimGroupRecord): Json {
  return {
    schemas: [GROUP_URN],
    id: record.id,
    ...(record.externalId === null ? {} : { externalId: record.externalId }),
    displayName: record.displayName,
    ...without(record.attributes as Json, GROUP_OWN),
    members: record.members.map((id) => ({ value: id, $ref: locationOf(ctx, 'Users', id), type: 'User' })),
    meta: meta(ctx, 'Group', record, record.id),
  };
}
