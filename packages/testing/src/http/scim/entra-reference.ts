import { active, email, field, listHas, listResponse, members, resource, SCHEMAS, scimError } from './checks';
import {
  createGroup,
  createUser,
  entraUser,
  entraVars,
  getGroup,
  getUser,
  patchGroup,
  patchUser,
} from './entra-fixtures';
import type { ScimCase } from './types';

// The user and group cases of Microsoft's reference test collection for Entra ID (AzureAD/SCIMReferenceCode),
// rewritten from its public description as our own steps. The complex-attribute and "garbage" cases are in
// entra-garbage.ts. Each case stands alone: it makes the users and groups it works on.

const USERS = 'entra-reference/users';
const GROUPS = 'entra-reference/groups';
const vars = entraVars;

const userCases: ScimCase[] = [
  {
    list: USERS,
    name: 'create a user, get it, find it by userName eq and by externalId eq',
    vars,
    steps: [
      createUser(),
      getUser('get the user by id', [resource('User'), field('userName', '{{userName}}'), active(true)]),
      {
        name: 'filter userName eq',
        method: 'GET',
        path: '/Users',
        query: { filter: 'userName eq "{{userName}}"' },
        status: 200,
        checks: [listResponse({ total: 1 }), listHas('id', '{{userId}}')],
      },
      {
        name: 'filter externalId eq',
        method: 'GET',
        path: '/Users',
        query: { filter: 'externalId eq "{{objectId}}"' },
        status: 200,
        checks: [listResponse({ total: 1 }), listHas('id', '{{userId}}')],
      },
    ],
  },
  {
    list: USERS,
    name: 'PATCH replace: attributes, emails[type eq "work"].value, the enterprise manager',
    vars,
    steps: [
      createUser('managerId', entraUser('{{managerName}}', '{{managerObjectId}}')),
      createUser(),
      patchUser('replace displayName, name.familyName and the work email', [
        { op: 'Replace', path: 'displayName', value: 'Alan M. Turing' },
        { op: 'Replace', path: 'name.familyName', value: 'Turing-Updated' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updated.{{userName}}' },
      ]),
      patchUser('add the enterprise manager (a colon path)', [
        { op: 'Add', path: `${SCHEMAS.enterprise}:manager`, value: { value: '{{managerId}}' } },
      ]),
      getUser('the replaced values are read back', [
        field('displayName', 'Alan M. Turing'),
        field('name.familyName', 'Turing-Updated'),
        email('work', 'updated.{{userName}}'),
        field(`${SCHEMAS.enterprise}.manager.value`, '{{managerId}}'),
      ]),
    ],
  },
  {
    list: USERS,
    name: 'PATCH active with the string "False" disables, "True" enables',
    vars,
    steps: [
      createUser(),
      patchUser('replace active "False"', [{ op: 'Replace', path: 'active', value: 'False' }]),
      getUser('active is the boolean false', [active(false)]),
      patchUser('replace active "True"', [{ op: 'Replace', path: 'active', value: 'True' }]),
      getUser('active is the boolean true', [active(true)]),
    ],
  },
  {
    list: USERS,
    name: 'PUT replaces the user',
    vars,
    steps: [
      createUser(),
      {
        name: 'PUT the whole user with a new display name and no enterprise extension',
        method: 'PUT',
        path: '/Users/{{userId}}',
        body: {
          ...entraUser(),
          schemas: [SCHEMAS.user],
          [SCHEMAS.enterprise]: undefined,
          displayName: 'Alan Put',
        },
        status: 200,
        checks: [field('id', '{{userId}}'), field('displayName', 'Alan Put')],
      },
      getUser('the PUT is read back', [field('displayName', 'Alan Put'), active(true)]),
    ],
  },
  {
    list: USERS,
    name: 'DELETE a user: 204, then 404 with the Error schema',
    vars,
    steps: [
      createUser(),
      { name: 'DELETE the user', method: 'DELETE', path: '/Users/{{userId}}', status: 204 },
      {
        name: 'GET after DELETE: 404',
        method: 'GET',
        path: '/Users/{{userId}}',
        status: 404,
        checks: [scimError()],
      },
      {
        name: 'userName eq after DELETE: an empty list',
        method: 'GET',
        path: '/Users',
        query: { filter: 'userName eq "{{userName}}"' },
        status: 200,
        checks: [listResponse({ total: 0 })],
      },
    ],
  },
];

const members2 = ['{{userId}}', '{{managerId}}'];

const groupCases: ScimCase[] = [
  {
    list: GROUPS,
    name: 'create a group, get it, find it by displayName eq',
    vars,
    steps: [
      createGroup(),
      getGroup('get the group by id', [resource('Group'), members([])]),
      {
        name: 'filter displayName eq, members left out',
        method: 'GET',
        path: '/Groups',
        query: { filter: 'displayName eq "{{groupName}}"', excludedAttributes: 'members' },
        status: 200,
        checks: [listResponse({ total: 1 }), listHas('id', '{{groupId}}')],
      },
    ],
  },
  {
    list: GROUPS,
    name: 'add a member, remove it, replace the members',
    vars,
    steps: [
      createUser(),
      createUser('managerId', entraUser('{{managerName}}', '{{managerObjectId}}')),
      createGroup(),
      patchGroup('add a member', [{ op: 'Add', path: 'members', value: [{ value: '{{userId}}' }] }]),
      getGroup('the member is in', [members(['{{userId}}'])]),
      patchGroup('remove the member (value in the body)', [
        { op: 'Remove', path: 'members', value: [{ value: '{{userId}}' }] },
      ]),
      getGroup('no member left', [members([])]),
      patchGroup('add both', [{ op: 'Add', path: 'members', value: members2.map((value) => ({ value })) }]),
      patchGroup('remove one by a filtered path', [
        { op: 'Remove', path: 'members[value eq "{{managerId}}"]' },
      ]),
      getGroup('one member left', [members(['{{userId}}'])]),
      patchGroup('replace the members', [
        { op: 'Replace', path: 'members', value: [{ value: '{{managerId}}' }] },
      ]),
      getGroup('only the replacement is a member', [members(['{{managerId}}'])]),
    ],
  },
  {
    list: GROUPS,
    name: 'PATCH the displayName, then DELETE the group',
    vars,
    steps: [
      createGroup(),
      patchGroup('replace displayName', [{ op: 'Replace', path: 'displayName', value: 'Renamed {{rand}}' }]),
      getGroup('the new name is read back', [field('displayName', 'Renamed {{rand}}')]),
      { name: 'DELETE the group', method: 'DELETE', path: '/Groups/{{groupId}}', status: 204 },
      {
        name: 'GET after DELETE: 404',
        method: 'GET',
        path: '/Groups/{{groupId}}',
        status: 404,
        checks: [scimError()],
      },
    ],
  },
];

/** The user and group cases of Microsoft's collection. */
export const entraUsersAndGroups: readonly ScimCase[] = [...userCases, ...groupCases];
