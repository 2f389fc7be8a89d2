import { ENTERPRISE_URN } from './filter';
import { isObject, type Json, keyOf } from './resources';

// `attributes=` and `excludedAttributes=` (RFC 7644 §3.4.2.5, §3.9): which attributes an answer holds.
// `schemas`, `id` and `meta` are `returned: always` here and never dropped.

const ALWAYS = new Set(['schemas', 'id', 'meta']);
const MAX_PATHS = 64;

/** One requested path: an attribute (of the enterprise extension when `extension`), maybe a sub-attribute. */
interface AttributePath {
  extension: boolean;
  name: string;
  sub: string | undefined;
}

/** The attribute paths of a comma-separated query value, without the resource's own schema URN. */
export function parseAttributePaths(value: string | undefined, urn: string): AttributePath[] {
  if (value === undefined || value.trim() === '') return [];
  return value
    .split(',')
    .slice(0, MAX_PATHS)
    .map((raw) => raw.trim())
    .filter((raw) => raw !== '')
    .map((raw) => {
      let path = raw;
      let extension = false;
      const lower = raw.toLowerCase();
      if (lower === ENTERPRISE_URN.toLowerCase())
        return { extension: false, name: ENTERPRISE_URN, sub: undefined };
      if (lower.startsWith(`${ENTERPRISE_URN.toLowerCase()}:`)) {
        extension = true;
        path = raw.slice(ENTERPRISE_URN.length + 1);
      } else if (lower.startsWith(`${urn.toLowerCase()}:`)) path = raw.slice(urn.length + 1);
      const dot = path.indexOf('.');
      return dot === -1
        ? { extension, name: path, sub: undefined }
        : { extension, name: path.slice(0, dot), sub: path.slice(dot + 1) };
    });
}

/** Only the sub-attribute `sub` of a complex value, or of each element of a multi-valued one. */
function pick(value: unknown, sub: string): unknown {
  if (Array.isArray(value)) return value.map((element) => pick(element, sub)).filter((v) => v !== undefined);
  if (!isObject(value)) return undefined;
  const key = keyOf(value, sub);
  return key === undefined ? undefined : { [key]: value[key] };
}

function merge(into: Json, key: string, value: unknown): void {
  const before = into[key];
  if (isObject(before) && isObject(value)) into[key] = { ...before, ...value };
  else if (Array.isArray(before) && Array.isArray(value))
    into[key] = before.map((element, i) =>
      isObject(element) ? { ...element, ...(value[i] as Json) } : element,
    );
  else into[key] = value;
}

function include(resource: Json, paths: readonly AttributePath[]): Json {
  const out: Json = {};
  for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key];
  for (const path of paths) {
    const holderKey = path.extension ? keyOf(resource, ENTERPRISE_URN) : undefined;
    const holder = path.extension ? resource[holderKey ?? ''] : resource;
    if (!isObject(holder)) continue;
    const key = keyOf(holder, path.name);
    if (key === undefined || ALWAYS.has(key)) continue;
    const value = path.sub === undefined ? holder[key] : pick(holder[key], path.sub);
    if (value === undefined) continue;
    if (path.extension && holderKey !== undefined) merge(out, holderKey, { [key]: value });
    else merge(out, key, value);
  }
  return out;
}

function exclude(resource: Json, paths: readonly AttributePath[]): Json {
  const out: Json = structuredClone(resource);
  for (const path of paths) {
    const holderKey = path.extension ? keyOf(out, ENTERPRISE_URN) : undefined;
    const holder = path.extension ? out[holderKey ?? ''] : out;
    if (!isObject(holder)) continue;
    const key = keyOf(holder, path.name);
    if (key === undefined || (!path.extension && ALWAYS.has(key))) continue;
    if (path.sub === undefined) delete holder[key];
    else
      for (const element of Array.isArray(holder[key]) ? (holder[key] as unknown[]) : [holder[key]])
        if (isObject(element)) {
          const subKey = keyOf(element, path.sub);
          if (subKey !== undefined) delete element[subKey];
        }
  }
  return out;
}

/** The requested view of a resource: `attributes` wins when both are given (RFC 7644 §3.4.2.5). */
export interface Projection {
  attributes: AttributePath[];
  excluded: AttributePath[];
}

/**
 * The resource as the query asks for it.
 *
 * @example
 * ```ts
 * const view = { attributes: parseAttributePaths('userName,name.givenName', USER_URN), excluded: [] };
 * project({ schemas: [], id: '1', userName: 'ada', name: { givenName: 'Ada', familyName: 'L' } }, view);
 * // { schemas: [], id: '1', userName: 'ada', name: { givenName: 'Ada' } }
 * ```
 */
export function project(resource: Json, view: Projection): Json {
  if (view.attributes.length > 0) return include(resource, view.attributes);
  if (view.excluded.length > 0) return exclude(resource, view.excluded);
  return resource;
}

/** Whether the view asks for `name` (e.g. `groups`, costly to look up, only fetched for a list when named). */
export const names = (view: Projection, name: string): boolean =>
  view.attributes.some((path) => !path.extension && path.name.toLowerCase() === name.toLowerCase());
