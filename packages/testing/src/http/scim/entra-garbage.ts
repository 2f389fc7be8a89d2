import {
  active,
  everyResource,
  field,
  listHas,
  listResponse,
  present,
  projected,
  SCHEMAS,
  scimError,
} from './checks';
import { createUser, entraUser, entraVars, getUser, patchUser } from './entra-fixtures';
import type { ScimCase, ScimStep } from './types';

// The complex-attribute and "garbage" cases of Microsoft's reference collection for Entra ID, as our own
// steps: complex and extension attributes kept and patched, loose input accepted (string booleans,
// misspelled attributes), bad input refused (no userName), projections, paging and the co/sw/gt filters.

const COMPLEX = 'entra-reference/complex';
const GARBAGE = 'entra-reference/garbage';
const vars = entraVars;
const ENT = SCHEMAS.enterprise;

const fullUser = {
  ...entraUser(),
  name: {
    formatted: 'Dr. Alan Mathison Turing OBE',
    familyName: 'Turing',
    givenName: 'Alan',
    middleName: 'Mathison',
    honorificPrefix: 'Dr.',
    honorificSuffix: 'OBE',
  },
  phoneNumbers: [{ type: 'work', value: '+44 20 7946 0000' }],
  [ENT]: {
    employeeNumber: '{{rand}}',
    costCenter: 'CC-42',
    organization: 'Contoso',
    division: 'Labs',
    department: 'Research',
  },
};

const withAddress = {
  ...entraUser(),
  addresses: [
    {
      type: 'work',
      primary: true,
      streetAddress: '1 Bletchley Park',
      locality: 'Milton Keynes',
      region: 'Buckinghamshire',
      postalCode: 'MK3 6EB',
      country: 'GB',
      formatted: '1 Bletchley Park, Milton Keynes MK3 6EB, GB',
    },
  ],
};

const complexCases: ScimCase[] = [
  {
    list: COMPLEX,
    name: 'name and the enterprise extension are kept, and patched by sub-attribute and colon path',
    vars,
    steps: [
      createUser('userId', fullUser),
      getUser('every sub-attribute is read back', [
        field('name.middleName', 'Mathison'),
        field('name.honorificSuffix', 'OBE'),
        field(`${ENT}.costCenter`, 'CC-42'),
        field(`${ENT}.department`, 'Research'),
      ]),
      patchUser('replace name.givenName and the enterprise department', [
        { op: 'replace', path: 'name.givenName', value: 'Al' },
        { op: 'replace', path: `${ENT}:department`, value: 'Cryptanalysis' },
      ]),
      getUser('the patched sub-attributes, the others kept', [
        field('name.givenName', 'Al'),
        field('name.familyName', 'Turing'),
        field(`${ENT}.department`, 'Cryptanalysis'),
        field(`${ENT}.division`, 'Labs'),
      ]),
    ],
  },
  {
    list: COMPLEX,
    name: '(optional in Entra) addresses are kept, and a filtered path patches the work address',
    vars,
    steps: [
      createUser('userId', withAddress),
      getUser('the address is read back', [field('addresses.0.locality', 'Milton Keynes')]),
      patchUser('replace addresses[type eq "work"].locality', [
        { op: 'Replace', path: 'addresses[type eq "work"].locality', value: 'London' },
      ]),
      getUser('the new locality', [field('addresses.0.locality', 'London')]),
    ],
  },
];

const listUsers = (name: string, query: Record<string, string>, checks: ScimStep['checks']): ScimStep => ({
  name,
  method: 'GET',
  path: '/Users',
  query,
  status: 200,
  checks,
});

const inputCases: ScimCase[] = [
  {
    list: GARBAGE,
    name: '"active": "True" as a string is accepted as the boolean',
    vars,
    steps: [
      createUser('userId', { ...entraUser(), active: 'True' }),
      getUser('active is the boolean true', [active(true)]),
    ],
  },
  {
    list: GARBAGE,
    name: 'a user without userName: 400 invalidValue',
    vars,
    steps: [
      {
        name: 'POST without userName',
        method: 'POST',
        path: '/Users',
        body: { ...entraUser(), userName: undefined },
        status: 400,
        checks: [scimError('invalidValue')],
      },
    ],
  },
  {
    list: GARBAGE,
    name: 'misspelled attributes are ignored (or refused with 400), the rest is kept',
    vars,
    steps: [
      {
        name: 'POST with "emials" and "nmae"',
        method: 'POST',
        path: '/Users',
        body: { ...entraUser(), emials: [{ value: 'x@example.com' }], nmae: { givenName: 'X' } },
        status: [201, 400],
        checks: [
          (response, values) =>
            response.status === 201 ? field('userName', '{{userName}}')(response, values) : undefined,
        ],
      },
    ],
  },
  {
    list: GARBAGE,
    name: 'an unknown filter attribute: 400 invalidFilter',
    vars,
    steps: [
      {
        name: 'filter on an attribute nobody has',
        method: 'GET',
        path: '/Users',
        query: { filter: 'favouriteColour eq "green"' },
        status: 400,
        checks: [scimError('invalidFilter')],
      },
    ],
  },
];

const queryCases: ScimCase[] = [
  {
    list: GARBAGE,
    name: 'attributes=userName and excludedAttributes=emails',
    vars,
    steps: [
      createUser(),
      listUsers(
        'attributes=userName: id and userName only',
        {
          filter: 'userName eq "{{userName}}"',
          attributes: 'userName',
        },
        [
          listResponse({ total: 1 }),
          projected({ keep: ['id', 'userName'], drop: ['emails', 'name', 'displayName'] }),
        ],
      ),
      {
        name: 'excludedAttributes=emails on one user',
        method: 'GET',
        path: '/Users/{{userId}}',
        query: { excludedAttributes: 'emails' },
        status: 200,
        checks: [projected({ keep: ['id', 'userName', 'name'], drop: ['emails'] })],
      },
    ],
  },
  {
    list: GARBAGE,
    name: 'pagination: startIndex and count over three users',
    vars,
    steps: [
      createUser('a', entraUser('page.{{rand}}.a@contoso.example', 'page-{{rand}}-a')),
      createUser('b', entraUser('page.{{rand}}.b@contoso.example', 'page-{{rand}}-b')),
      createUser('c', entraUser('page.{{rand}}.c@contoso.example', 'page-{{rand}}-c')),
      listUsers(
        'first page: 2 of 3',
        { filter: 'userName sw "page.{{rand}}."', startIndex: '1', count: '2' },
        [
          listResponse({ total: 3, startIndex: 1 }),
          ({ body }) =>
            (body as { Resources?: unknown[] }).Resources?.length === 2 ? undefined : 'expected 2 Resources',
        ],
      ),
      listUsers(
        'last page: 1 of 3',
        { filter: 'userName sw "page.{{rand}}."', startIndex: '3', count: '2' },
        [
          listResponse({ total: 3, startIndex: 3 }),
          ({ body }) =>
            (body as { Resources?: unknown[] }).Resources?.length === 1 ? undefined : 'expected 1 Resource',
        ],
      ),
      listUsers('count=0: only the total', { filter: 'userName sw "page.{{rand}}."', count: '0' }, [
        listResponse({ total: 3, maxItems: 0 }),
      ]),
    ],
  },
  {
    list: GARBAGE,
    name: 'filters: co, sw and meta.lastModified gt',
    vars,
    steps: [
      createUser(),
      listUsers('userName co the random part', { filter: 'userName co "{{rand}}"' }, [
        listResponse({ total: 1 }),
        listHas('id', '{{userId}}'),
      ]),
      listUsers('userName sw the first name', { filter: 'userName sw "alan.turing.{{rand}}"' }, [
        listResponse({ total: 1 }),
        everyResource('userName', 'starting with alan.turing.', (v) => String(v).startsWith('alan.turing.')),
      ]),
      listUsers(
        'meta.lastModified gt a past instant finds it',
        {
          filter: 'userName eq "{{userName}}" and meta.lastModified gt "2000-01-01T00:00:00Z"',
        },
        [listResponse({ total: 1 }), present('Resources.0.meta.lastModified')],
      ),
      listUsers(
        'meta.lastModified gt a future instant finds nothing',
        {
          filter: 'userName eq "{{userName}}" and meta.lastModified gt "2999-01-01T00:00:00Z"',
        },
        [listResponse({ total: 0 })],
      ),
    ],
  },
];

/** The complex-attribute and garbage cases of Microsoft's collection. */
export const entraComplexAndGarbage: readonly ScimCase[] = [...complexCases, ...inputCases, ...queryCases];
