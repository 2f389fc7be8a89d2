import { field, listHas, listResponse, present, resource, SCHEMAS, scimError, scimJson } from './checks';
import type { ScimCase, ScimStep } from './types';

// Okta's "SCIM 2.0 SPEC Test" (the test its integration network requires), rewritten from its public
// description as our own steps: list users with paging, read one, look up unknown users, create a user with
// realistic values, read it back, refuse a duplicate, find it with the userName case-changed, refuse a wrong
// token. One case: the later steps use what the earlier ones made, as Okta's test does.

const LIST = 'okta-spec';

const vars = (rand: string) => {
  const userName = `Grace.Hopper.${rand}@example.com`;
  return {
    userName,
    userNameUpper: userName.toUpperCase(),
    unknownUserName: `nobody.${rand}@example.com`,
    // A random id in the shape most servers use (a UUID): never one of theirs.
    unknownId: `${rand.slice(0, 8)}-0000-4000-8000-${rand.padEnd(12, '0').slice(0, 12)}`,
  };
};

/** The user Okta creates: given and family name, a primary work email, active, and a password. */
const realisticUser = {
  schemas: [SCHEMAS.user],
  userName: '{{userName}}',
  name: { givenName: 'Grace', familyName: 'Hopper' },
  emails: [{ primary: true, value: '{{userName}}', type: 'work' }],
  displayName: 'Grace Hopper',
  locale: 'en-US',
  externalId: 'okta-{{rand}}',
  groups: [],
  password: 'Correct-Horse-{{rand}}',
  active: true,
};

const seed: ScimStep = {
  name: 'setup: a user exists to list (the test reads the first user of the list)',
  method: 'POST',
  path: '/Users',
  body: { ...realisticUser, userName: 'seed.{{userName}}', externalId: 'okta-seed-{{rand}}', emails: [] },
  status: 201,
};

const listAndRead: ScimStep[] = [
  {
    name: 'list users with count and startIndex: a ListResponse of at most one user',
    method: 'GET',
    path: '/Users',
    query: { count: '1', startIndex: '1' },
    status: 200,
    checks: [scimJson, listResponse({ startIndex: 1, maxItems: 1 }), present('Resources.0.id')],
    save: { listedId: 'Resources.0.id' },
  },
  {
    name: 'get the listed user by id',
    method: 'GET',
    path: '/Users/{{listedId}}',
    status: 200,
    checks: [scimJson, resource('User'), field('id', '{{listedId}}'), present('userName')],
  },
  {
    name: 'userName eq for a random unknown user: 200 and an empty ListResponse',
    method: 'GET',
    path: '/Users',
    query: { filter: 'userName eq "{{unknownUserName}}"' },
    status: 200,
    checks: [listResponse({ total: 0 })],
  },
  {
    name: 'a random id that does not exist: 404 with the Error schema',
    method: 'GET',
    path: '/Users/{{unknownId}}',
    status: 404,
    checks: [scimError(), present('detail')],
  },
];

const createAndFind: ScimStep[] = [
  {
    name: 'create a user with realistic values: 201 with an id',
    method: 'POST',
    path: '/Users',
    body: realisticUser,
    status: 201,
    checks: [
      resource('User'),
      field('userName', '{{userName}}'),
      field('name.givenName', 'Grace'),
      field('name.familyName', 'Hopper'),
      field('active', true),
      present('password', false),
    ],
    save: { userId: 'id' },
  },
  {
    name: 'get the created user by id',
    method: 'GET',
    path: '/Users/{{userId}}',
    status: 200,
    checks: [
      field('id', '{{userId}}'),
      field('userName', '{{userName}}'),
      field('name.familyName', 'Hopper'),
      field('active', true),
      present('password', false),
    ],
  },
  {
    name: 'userName eq finds the created user',
    method: 'GET',
    path: '/Users',
    query: { filter: 'userName eq "{{userName}}"' },
    status: 200,
    checks: [listResponse({ total: 1 }), listHas('id', '{{userId}}')],
  },
  {
    name: 'create the same user again: 409',
    method: 'POST',
    path: '/Users',
    body: realisticUser,
    status: 409,
    checks: [scimError()],
  },
  {
    name: 'userName eq with the userName case-changed still finds it (userName is caseExact false)',
    method: 'GET',
    path: '/Users',
    query: { filter: 'userName eq "{{userNameUpper}}"' },
    status: 200,
    checks: [listResponse({ total: 1 }), listHas('id', '{{userId}}')],
  },
  {
    name: 'a wrong bearer token: 401 with the Error schema',
    method: 'GET',
    path: '/Users',
    query: { count: '1', startIndex: '1' },
    auth: 'wrong',
    status: 401,
    checks: [scimError()],
  },
];

/** Okta's SCIM 2.0 SPEC test, as our steps. */
export const oktaSpec: readonly ScimCase[] = [
  { list: LIST, name: 'the SPEC test, every step', vars, steps: [seed, ...listAndRead, ...createAndFind] },
];
