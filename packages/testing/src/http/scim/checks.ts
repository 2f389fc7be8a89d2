import { substitute, valueAt } from './runner';
import type { ScimCheck, ScimVars } from './types';

// Small checks the step lists are written with, exported (as `scimChecks`) for lists of your own. Each
// answers a problem in words, or undefined when it holds. Expected strings may hold `{{placeholders}}`.

export const SCHEMAS = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

const show = (value: unknown) => (value === undefined ? 'nothing' : JSON.stringify(value));

const expand = (expected: unknown, vars: ScimVars) =>
  typeof expected === 'string' ? substitute(expected, vars) : expected;

const hasSchema = (body: unknown, schema: string) => {
  const schemas = valueAt(body, 'schemas');
  return Array.isArray(schemas) && schemas.includes(schema);
};

const resourcesOf = (body: unknown): unknown[] => {
  const resources = valueAt(body, 'Resources');
  return Array.isArray(resources) ? resources : [];
};

const same = (a: unknown, b: unknown, caseInsensitive: boolean) =>
  caseInsensitive && typeof a === 'string' && typeof b === 'string'
    ? a.toLowerCase() === b.toLowerCase()
    : JSON.stringify(a) === JSON.stringify(b);

/** The body's value at `path` equals `expected` (strings compared case-insensitively when told). */
export const field =
  (path: string, expected: unknown, options: { caseInsensitive?: boolean } = {}): ScimCheck =>
  ({ body }, vars) => {
    const want = expand(expected, vars);
    const got = valueAt(body, path);
    return same(got, want, options.caseInsensitive === true)
      ? undefined
      : `${path} is ${show(got)}, expected ${show(want)}`;
  };

/** The body has a value at `path` (or, with `present: false`, has none). */
export const present =
  (path: string, isPresent = true): ScimCheck =>
  ({ body }) => {
    const got = valueAt(body, path);
    if (isPresent) return got === undefined || got === null ? `${path} is missing` : undefined;
    return got === undefined || got === null ? undefined : `${path} is ${show(got)}, expected none`;
  };

/** A SCIM `ListResponse`: its schema, numeric `totalResults`/`itemsPerPage`/`startIndex`, `Resources` fitting. */
export const listResponse =
  (expect: { total?: number; startIndex?: number; maxItems?: number } = {}): ScimCheck =>
  ({ body }) => {
    if (!hasSchema(body, SCHEMAS.list)) return `schemas lacks ${SCHEMAS.list}`;
    for (const name of ['totalResults', 'itemsPerPage', 'startIndex'])
      if (typeof valueAt(body, name) !== 'number')
        return `${name} is ${show(valueAt(body, name))}, not a number`;
    const total = valueAt(body, 'totalResults') as number;
    const resources = resourcesOf(body);
    if (total > 0 && !Array.isArray(valueAt(body, 'Resources'))) return 'Resources is missing';
    if (expect.total !== undefined && total !== expect.total)
      return `totalResults is ${total}, expected ${expect.total}`;
    if (expect.startIndex !== undefined && valueAt(body, 'startIndex') !== expect.startIndex)
      return `startIndex is ${show(valueAt(body, 'startIndex'))}, expected ${expect.startIndex}`;
    if (expect.maxItems !== undefined && resources.length > expect.maxItems)
      return `${resources.length} Resources, expected at most ${expect.maxItems}`;
    if (valueAt(body, 'itemsPerPage') !== resources.length)
      return `itemsPerPage is ${show(valueAt(body, 'itemsPerPage'))} for ${resources.length} Resources`;
    return undefined;
  };

/** A SCIM `Error`: its schema and a `status` that is the HTTP status as a string (`scimType` when given). */
export const scimError =
  (scimType?: string): ScimCheck =>
  ({ body, status }) => {
    if (!hasSchema(body, SCHEMAS.error)) return `schemas lacks ${SCHEMAS.error}`;
    if (valueAt(body, 'status') !== String(status))
      return `status is ${show(valueAt(body, 'status'))}, expected the string "${status}"`;
    if (scimType !== undefined && valueAt(body, 'scimType') !== scimType)
      return `scimType is ${show(valueAt(body, 'scimType'))}, expected "${scimType}"`;
    return undefined;
  };

/** A resource of `kind`: its core schema, a string `id`, and `meta.resourceType`. */
export const resource =
  (kind: 'User' | 'Group'): ScimCheck =>
  ({ body }) => {
    const schema = kind === 'User' ? SCHEMAS.user : SCHEMAS.group;
    if (!hasSchema(body, schema)) return `schemas lacks ${schema}`;
    if (typeof valueAt(body, 'id') !== 'string') return 'id is not a string';
    const type = valueAt(body, 'meta.resourceType');
    return type === kind ? undefined : `meta.resourceType is ${show(type)}, expected "${kind}"`;
  };

/** The response says it is SCIM JSON (`application/scim+json`, or plain `application/json`). */
export const scimJson: ScimCheck = ({ headers }) =>
  /^application\/(scim\+)?json\b/i.test(headers['content-type'] ?? '')
    ? undefined
    : `content-type is ${show(headers['content-type'])}, expected application/scim+json`;

/** Some resource of the list has `expected` at `path`. */
export const listHas =
  (path: string, expected: unknown): ScimCheck =>
  ({ body }, vars) => {
    const want = expand(expected, vars);
    return resourcesOf(body).some((r) => same(valueAt(r, path), want, false))
      ? undefined
      : `no resource of the list has ${path} = ${show(want)}`;
  };

/** Every resource of the list passes `test` on its value at `path` (`describe` says what, for the report). */
export const everyResource =
  (path: string, describe: string, test: (value: unknown, vars: ScimVars) => boolean): ScimCheck =>
  ({ body }, vars) => {
    const bad = resourcesOf(body).find((r) => !test(valueAt(r, path), vars));
    return bad === undefined ? undefined : `${path} ${show(valueAt(bad, path))} is not ${describe}`;
  };

/** The list's resources have no attribute `name` at top level, and every one has `keep`. */
export const projected =
  (expect: { keep?: readonly string[]; drop?: readonly string[] }): ScimCheck =>
  ({ body }) => {
    const resources = valueAt(body, 'Resources') === undefined ? [body] : resourcesOf(body);
    for (const r of resources) {
      for (const name of expect.drop ?? [])
        if (valueAt(r, name) !== undefined) return `${name} is returned, expected it left out`;
      for (const name of expect.keep ?? [])
        if (valueAt(r, name) === undefined) return `${name} is missing, expected it returned`;
    }
    return undefined;
  };

/** The group's `members` values are exactly these ids (order aside); placeholders allowed. */
export const members =
  (ids: readonly string[]): ScimCheck =>
  ({ body }, vars) => {
    const list = valueAt(body, 'members');
    const got = (Array.isArray(list) ? list : []).map((m) => valueAt(m, 'value')).sort();
    const want = ids.map((id) => substitute(id, vars)).sort();
    return JSON.stringify(got) === JSON.stringify(want)
      ? undefined
      : `members are ${show(got)}, expected ${show(want)}`;
  };

/** The `value` of the user's email of `type` is `expected`. */
export const email =
  (type: string, expected: string): ScimCheck =>
  ({ body }, vars) => {
    const list = valueAt(body, 'emails');
    const found = (Array.isArray(list) ? list : []).find(
      (e) => String(valueAt(e, 'type')).toLowerCase() === type,
    );
    const want = substitute(expected, vars);
    return valueAt(found, 'value') === want
      ? undefined
      : `the ${type} email is ${show(valueAt(found, 'value'))}, expected ${show(want)}`;
  };

/** The attribute is a boolean `expected` (not the string a client may have sent). */
export const active = (expected: boolean): ScimCheck => field('active', expected);
