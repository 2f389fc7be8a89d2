import { field, SCHEMAS } from './checks';
import type { ScimCheck, ScimStep } from './types';

// The resources Entra ID sends, shared by the reference cases and the provisioning cycle: a user with the
// enterprise extension, as Entra writes it (externalId = the object id, `"True"`-free booleans here: the
// string forms have cases of their own), and an empty group.

export const entraVars = (rand: string) => ({
  userName: `alan.turing.${rand}@contoso.example`,
  objectId: `${rand}-0000-4000-8000-entra-user`,
  managerName: `ada.lovelace.${rand}@contoso.example`,
  managerObjectId: `${rand}-0000-4000-8000-entra-boss`,
  groupName: `Engineering ${rand}`,
  groupObjectId: `${rand}-0000-4000-8000-entra-grp`,
});

export const entraUser = (userName = '{{userName}}', externalId = '{{objectId}}') => ({
  schemas: [SCHEMAS.user, SCHEMAS.enterprise],
  externalId,
  userName,
  active: true,
  displayName: 'Alan Turing',
  emails: [{ primary: true, type: 'work', value: userName }],
  meta: { resourceType: 'User' },
  name: { formatted: 'Alan Turing', familyName: 'Turing', givenName: 'Alan' },
  roles: [],
  [SCHEMAS.enterprise]: { department: 'Research', employeeNumber: '{{rand}}' },
});

export const entraGroup = {
  schemas: [SCHEMAS.group],
  externalId: '{{groupObjectId}}',
  displayName: '{{groupName}}',
  meta: { resourceType: 'Group' },
  members: [],
};

export const patch = (...operations: Record<string, unknown>[]) => ({
  schemas: [SCHEMAS.patch],
  Operations: operations,
});

/** POST the case's user (or another one), keeping its id as `{{save}}`. */
export const createUser = (save = 'userId', user: unknown = entraUser()): ScimStep => ({
  name: `create a user (kept as {{${save}}})`,
  method: 'POST',
  path: '/Users',
  body: user,
  status: 201,
  save: { [save]: 'id' },
});

/** GET the user and run `checks` on it. */
export const getUser = (name: string, checks: readonly ScimCheck[], id = '{{userId}}'): ScimStep => ({
  name,
  method: 'GET',
  path: `/Users/${id}`,
  status: 200,
  checks,
});

/** PATCH the user with `operations`: 200 with the resource, or 204 (both allowed by RFC 7644 §3.5.2). */
export const patchUser = (
  name: string,
  operations: Record<string, unknown>[],
  id = '{{userId}}',
): ScimStep => ({
  name,
  method: 'PATCH',
  path: `/Users/${id}`,
  body: patch(...operations),
  status: [200, 204],
});

export const createGroup = (group: unknown = entraGroup): ScimStep => ({
  name: 'create a group (kept as {{groupId}})',
  method: 'POST',
  path: '/Groups',
  body: group,
  status: 201,
  checks: [field('displayName', '{{groupName}}')],
  save: { groupId: 'id' },
});

export const patchGroup = (name: string, operations: Record<string, unknown>[]): ScimStep => ({
  name,
  method: 'PATCH',
  path: '/Groups/{{groupId}}',
  body: patch(...operations),
  status: [200, 204],
});

export const getGroup = (name: string, checks: readonly ScimCheck[]): ScimStep => ({
  name,
  method: 'GET',
  path: '/Groups/{{groupId}}',
  status: 200,
  checks,
});
