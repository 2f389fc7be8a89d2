import { active, email, field, listHas, listResponse, members, SCHEMAS, scimError } from './checks';
import {
  createGroup,
  createUser,
  entraGroup,
  entraVars,
  getGroup,
  getUser,
  patchGroup,
  patchUser,
} from './entra-fixtures';
import type { ScimCase, ScimStep } from './types';

// The requests Entra ID and Okta send in one provisioning cycle, in their order, from their public
// provisioning documentation: look the user up, create it, update attributes, manage group membership,
// deactivate, reactivate, and (Entra) delete. One case each: a cycle is a sequence.

const find = (name: string, filter: string, total: number, extra: Record<string, string> = {}): ScimStep => ({
  name,
  method: 'GET',
  path: '/Users',
  query: { filter, ...extra },
  status: 200,
  checks: [listResponse({ total }), ...(total === 1 ? [listHas('id', '{{userId}}')] : [])],
});

const entraSteps: ScimStep[] = [
  find('lookup by userName eq (the default matching attribute): none yet', 'userName eq "{{userName}}"', 0),
  find('lookup by externalId eq (the object id): none yet', 'externalId eq "{{objectId}}"', 0),
  createUser(),
  getUser('read back after create', [field('externalId', '{{objectId}}'), active(true)]),
  find('the next cycle finds it by userName eq', 'userName eq "{{userName}}"', 1),
  patchUser('update multi-valued and complex attributes', [
    { op: 'Replace', path: 'emails[type eq "work"].value', value: 'alan@{{rand}}.contoso.example' },
    { op: 'Replace', path: 'name.familyName', value: 'Turing II' },
  ]),
  patchUser('update the userName (a rename in Entra)', [
    { op: 'Replace', path: 'userName', value: 'renamed.{{userName}}' },
  ]),
  getUser('the updates are read back', [
    field('userName', 'renamed.{{userName}}'),
    email('work', 'alan@{{rand}}.contoso.example'),
    field('name.familyName', 'Turing II'),
  ]),
  {
    name: 'lookup the group by displayName eq, members left out: none yet',
    method: 'GET',
    path: '/Groups',
    query: { excludedAttributes: 'members', filter: 'displayName eq "{{groupName}}"' },
    status: 200,
    checks: [listResponse({ total: 0 })],
  },
  createGroup(entraGroup),
  patchGroup('add the user to the group', [{ op: 'Add', path: 'members', value: [{ value: '{{userId}}' }] }]),
  getGroup('the member is in', [members(['{{userId}}'])]),
  patchGroup('remove the user from the group', [
    { op: 'Remove', path: 'members', value: [{ value: '{{userId}}' }] },
  ]),
  getGroup('no member left', [members([])]),
  patchUser('deactivate: replace active "False" (a string, as Entra sends it)', [
    { op: 'Replace', path: 'active', value: 'False' },
  ]),
  getUser('inactive', [active(false)]),
  patchUser('reactivate: replace active true', [{ op: 'Replace', path: 'active', value: true }]),
  getUser('active again', [active(true)]),
  {
    name: 'delete the user (unassigned or deleted in Entra)',
    method: 'DELETE',
    path: '/Users/{{userId}}',
    status: 204,
  },
  { name: 'the user is gone', method: 'GET', path: '/Users/{{userId}}', status: 404, checks: [scimError()] },
  { name: 'delete the group', method: 'DELETE', path: '/Groups/{{groupId}}', status: 204 },
];

const oktaVars = (rand: string) => ({
  userName: `katherine.johnson.${rand}@example.com`,
  oktaId: `00u${rand}okta`,
  groupName: `Okta Push ${rand}`,
});

const oktaUser = (overrides: Record<string, unknown> = {}) => ({
  schemas: [SCHEMAS.user],
  userName: '{{userName}}',
  name: { givenName: 'Katherine', familyName: 'Johnson' },
  emails: [{ primary: true, value: '{{userName}}', type: 'work' }],
  displayName: 'Katherine Johnson',
  locale: 'en-US',
  externalId: '{{oktaId}}',
  groups: [],
  active: true,
  ...overrides,
});

/** Okta's PUT carries the whole resource, with its id. */
const putUser = (name: string, overrides: Record<string, unknown>, checks: ScimStep['checks']): ScimStep => ({
  name,
  method: 'PUT',
  path: '/Users/{{userId}}',
  body: { ...oktaUser(overrides), id: '{{userId}}' },
  status: 200,
  checks,
});

const oktaUserSteps: ScimStep[] = [
  find('does the user exist: userName eq, startIndex=1, count=100', 'userName eq "{{userName}}"', 0, {
    startIndex: '1',
    count: '100',
  }),
  createUser('userId', { ...oktaUser(), password: 'Sup3r-Secret-{{rand}}' }),
  getUser('retrieve the user', [field('userName', '{{userName}}'), active(true)]),
  putUser('a profile update: PUT of the whole user', { name: { givenName: 'Kate', familyName: 'Johnson' } }, [
    field('name.givenName', 'Kate'),
  ]),
  putUser('deactivate: PUT with active false', { active: false }, [active(false)]),
  getUser('inactive', [active(false)]),
  patchUser('reactivate: PATCH without a path, value { active: true }', [
    { op: 'replace', value: { active: true } },
  ]),
  getUser('active again', [active(true)]),
  patchUser('deactivate: PATCH without a path, value { active: false }', [
    { op: 'replace', value: { active: false } },
  ]),
  getUser('inactive again', [active(false)]),
  putUser('reactivate: PUT with active true', { active: true }, [active(true)]),
];

const oktaGroupSteps: ScimStep[] = [
  {
    name: 'does the group exist: displayName eq',
    method: 'GET',
    path: '/Groups',
    query: { filter: 'displayName eq "{{groupName}}"', startIndex: '1', count: '100' },
    status: 200,
    checks: [listResponse({ total: 0 })],
  },
  createGroup({
    schemas: [SCHEMAS.group],
    displayName: '{{groupName}}',
    members: [{ value: '{{userId}}', display: '{{userName}}' }],
  }),
  getGroup('retrieve the group', [members(['{{userId}}'])]),
  patchGroup('rename: replace without a path, value { id, displayName }', [
    { op: 'replace', value: { id: '{{groupId}}', displayName: 'Renamed {{groupName}}' } },
  ]),
  patchGroup('remove the member by a filtered path', [
    { op: 'remove', path: 'members[value eq "{{userId}}"]' },
  ]),
  getGroup('renamed, no member', [field('displayName', 'Renamed {{groupName}}'), members([])]),
  patchGroup('add the member back', [
    { op: 'add', path: 'members', value: [{ value: '{{userId}}', display: '{{userName}}' }] },
  ]),
  getGroup('the member is in again', [members(['{{userId}}'])]),
  {
    name: 'PUT the whole group (members included)',
    method: 'PUT',
    path: '/Groups/{{groupId}}',
    body: { schemas: [SCHEMAS.group], id: '{{groupId}}', displayName: '{{groupName}}', members: [] },
    status: 200,
    checks: [field('displayName', '{{groupName}}'), members([])],
  },
  {
    name: 'delete the group (a push group removed in Okta)',
    method: 'DELETE',
    path: '/Groups/{{groupId}}',
    status: 204,
  },
];

/** One Entra ID and one Okta provisioning cycle. Okta never deletes a user: it deactivates it. */
export const provisioningCycles: readonly ScimCase[] = [
  { list: 'entra-cycle', name: 'an Entra ID provisioning cycle', vars: entraVars, steps: entraSteps },
  {
    list: 'okta-cycle',
    name: 'an Okta provisioning cycle',
    vars: oktaVars,
    steps: [...oktaUserSteps, ...oktaGroupSteps],
  },
];
