import { ENTERPRISE_URN, GROUP_URN, USER_URN } from './filter';
import type { Json, ResourceContext } from './resources';

// The discovery documents (RFC 7644 §4): what this server supports, its resource types and their schemas.

const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** A `ListResponse` of one page (RFC 7644 §3.4.2). */
export const listResponse = (resources: readonly Json[], totalResults: number, startIndex: number): Json => ({
  schemas: [LIST_RESPONSE],
  totalResults,
  startIndex,
  itemsPerPage: resources.length,
  Resources: resources,
});

const base = (ctx: ResourceContext, resourceType: string, path: string): Json => ({
  resourceType,
  location: `${ctx.baseUrl === undefined ? '' : `${ctx.baseUrl}/`}${path}`,
});

export function serviceProviderConfig(ctx: ResourceContext, maxResults: number): Json {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://github.com/jit-provision/jit-provision/blob/main/docs/scim.md',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A shared bearer token in the Authorization header',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    meta: base(ctx, 'ServiceProviderConfig', 'ServiceProviderConfig'),
  };
}

type Attr = [name: string, type: string, extra?: Json];

/** An attribute definition (RFC 7643 §7) with the defaults most attributes share. */
function attribute([name, type, extra = {}]: Attr): Json {
  return {
    name,
    type,
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...extra,
    ...(Array.isArray(extra['subAttributes'])
      ? { subAttributes: (extra['subAttributes'] as Attr[]).map(attribute) }
      : {}),
  };
}

const MULTI_SUBS: Attr[] = [
  ['value', 'string'],
  ['display', 'string'],
  ['type', 'string'],
  ['primary', 'boolean'],
];

const USER_ATTRIBUTES: Attr[] = [
  ['userName', 'string', { required: true, uniqueness: 'server' }],
  ['externalId', 'string', { caseExact: true }],
  [
    'name',
    'complex',
    {
      subAttributes: [
        'formatted',
        'familyName',
        'givenName',
        'middleName',
        'honorificPrefix',
        'honorificSuffix',
      ].map((sub): Attr => [sub, 'string']),
    },
  ],
  ['displayName', 'string'],
  ['nickName', 'string'],
  ['title', 'string'],
  ['userType', 'string'],
  ['preferredLanguage', 'string'],
  ['locale', 'string'],
  ['timezone', 'string'],
  ['active', 'boolean'],
  ['password', 'string', { mutability: 'writeOnly', returned: 'never' }],
  ['emails', 'complex', { multiValued: true, subAttributes: MULTI_SUBS }],
  ['phoneNumbers', 'complex', { multiValued: true, subAttributes: MULTI_SUBS }],
  [
    'addresses',
    'complex',
    {
      multiValued: true,
      subAttributes: ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type']
        .map((sub): Attr => [sub, 'string'])
        .concat([['primary', 'boolean']]),
    },
  ],
  ['groups', 'complex', { multiValued: true, mutability: 'readOnly', subAttributes: MULTI_SUBS }],
];

const GROUP_ATTRIBUTES: Attr[] = [
  ['displayName', 'string', { required: true }],
  ['externalId', 'string', { caseExact: true }],
  [
    'members',
    'complex',
    {
      multiValued: true,
      subAttributes: [
        ['value', 'string', { mutability: 'immutable', caseExact: true }],
        ['$ref', 'reference', { mutability: 'immutable', referenceTypes: ['User'] }],
        ['type', 'string', { mutability: 'immutable', canonicalValues: ['User'] }],
        ['display', 'string', { mutability: 'readOnly' }],
      ] satisfies Attr[],
    },
  ],
];

const ENTERPRISE_ATTRIBUTES: Attr[] = [
  ...['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map(
    (name): Attr => [name, 'string'],
  ),
  [
    'manager',
    'complex',
    {
      subAttributes: [
        ['value', 'string', { caseExact: true }],
        ['$ref', 'reference', { referenceTypes: ['User'] }],
        ['displayName', 'string', { mutability: 'readOnly' }],
      ] satisfies Attr[],
    },
  ],
];

const schema = (
  ctx: ResourceContext,
  id: string,
  name: string,
  description: string,
  attributes: Attr[],
): Json => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
  id,
  name,
  description,
  attributes: attributes.map(attribute),
  meta: base(ctx, 'Schema', `Schemas/${id}`),
});

export const schemas = (ctx: ResourceContext): Json[] => [
  schema(ctx, USER_URN, 'User', 'User Account', USER_ATTRIBUTES),
  schema(ctx, GROUP_URN, 'Group', 'Group', GROUP_ATTRIBUTES),
  schema(ctx, ENTERPRISE_URN, 'EnterpriseUser', 'Enterprise User', ENTERPRISE_ATTRIBUTES),
];

export const resourceTypes = (ctx: ResourceContext): Json[] => [
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: USER_URN,
    schemaExtensions: [{ schema: ENTERPRISE_URN, required: false }],
    meta: base(ctx, 'ResourceType', 'ResourceTypes/User'),
  },
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: GROUP_URN,
    meta: base(ctx, 'ResourceType', 'ResourceTypes/Group'),
  },
];
