import type { ScimFilter } from '@jit-provision/core';
import { invalidValue, ScimError } from './errors';
import { ENTERPRISE_URN, matchesElement, parseElementFilter } from './filter';
import { isObject, type Json, keyOf } from './resources';

// PATCH (RFC 7644 §3.5.2) applied to the resource in hand, as Entra ID and Okta send it: op names in any
// case, no `path` with a value object (whose keys may be paths themselves), enterprise-extension paths with a
// colon, filtered value paths that create the element when missing, `add` on a single value as `replace`,
// `null` as remove, and `remove` with a value list (Entra's member removal). The caller turns the result back
// into a write, so a PATCH and a PUT end in the same validation.

export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Most operations one PATCH may hold. */
export const MAX_PATCH_OPERATIONS = 1_000;

/** A parsed path: an attribute of the resource or of the enterprise extension, maybe filtered, maybe a sub. */
export interface PatchPath {
  extension: boolean;
  name: string;
  filter: ScimFilter<string> | undefined;
  sub: string | undefined;
}

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: PatchPath | undefined;
  value: unknown;
}

// Written by the server, never by a PATCH: ignored, as Entra sends `id` back in a no-path replace at times.
const READ_ONLY = new Set(['id', 'meta', 'schemas', 'groups']);

const invalidPath = (detail: string) => new ScimError(400, detail, 'invalidPath');
const noTarget = (detail: string) => new ScimError(400, detail, 'noTarget');

/** The `]` closing the value filter that opens at `open`, skipping quoted strings. */
function closingBracket(text: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < text.length; i += 1) {
    const c = text[i];
    if (quoted && c === '\\') i += 1;
    else if (c === '"') quoted = !quoted;
    else if (c === ']' && !quoted) return i;
  }
  throw invalidPath('Unclosed "[" in path');
}

/**
 * A PATCH path (`name.givenName`, `emails[type eq "work"].value`, `members[value eq "id"]`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`) relative to the resource of `urn`.
 *
 * @throws ScimError 400 `invalidPath` (or `invalidFilter` for the value filter).
 */
export function parsePatchPath(text: string, urn: string): PatchPath {
  let rest = text.trim();
  let extension = false;
  const lower = rest.toLowerCase();
  const enterprise = ENTERPRISE_URN.toLowerCase();
  if (lower === enterprise)
    return { extension: false, name: ENTERPRISE_URN, filter: undefined, sub: undefined };
  if (lower.startsWith(`${enterprise}:`)) {
    extension = true;
    rest = rest.slice(enterprise.length + 1);
  } else if (lower.startsWith(`${urn.toLowerCase()}:`)) rest = rest.slice(urn.length + 1);
  else if (lower.startsWith('urn:')) throw invalidPath(`Unknown schema in path: ${text}`);
  const open = rest.indexOf('[');
  if (open !== -1) {
    const close = closingBracket(rest, open);
    const after = rest.slice(close + 1);
    if (after !== '' && !/^\.[A-Za-z_$][\w$-]*$/.test(after)) throw invalidPath(`Invalid path: ${text}`);
    return {
      extension,
      name: checkName(rest.slice(0, open), text),
      filter: parseElementFilter(rest.slice(open + 1, close)),
      sub: after === '' ? undefined : after.slice(1),
    };
  }
  const dot = rest.indexOf('.');
  const name = checkName(dot === -1 ? rest : rest.slice(0, dot), text);
  const sub = dot === -1 ? undefined : checkName(rest.slice(dot + 1), text);
  return { extension, name, filter: undefined, sub };
}

function checkName(name: string, text: string): string {
  if (!/^[A-Za-z_$][\w$-]*$/.test(name)) throw invalidPath(`Invalid path: ${text}`);
  return name;
}

/**
 * A PATCH body's operations, op names in any case.
 *
 * @throws ScimError 400 `invalidSyntax` for a body that is no PatchOp, `invalidPath` for a bad path.
 */
export function parsePatch(body: unknown, urn: string): PatchOperation[] {
  if (!isObject(body)) throw new ScimError(400, 'The body must be a PatchOp', 'invalidSyntax');
  const schemas = body['schemas'];
  if (
    Array.isArray(schemas) &&
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_SCHEMA.toLowerCase())
  )
    throw new ScimError(400, `schemas must name ${PATCH_SCHEMA}`, 'invalidSyntax');
  const operations = body[keyOf(body, 'Operations') ?? 'Operations'];
  if (!Array.isArray(operations)) throw new ScimError(400, 'Operations must be a list', 'invalidSyntax');
  if (operations.length > MAX_PATCH_OPERATIONS)
    throw invalidValue(`A PATCH may hold at most ${MAX_PATCH_OPERATIONS} operations`);
  return operations.map((operation): PatchOperation => {
    if (!isObject(operation)) throw new ScimError(400, 'An operation must be an object', 'invalidSyntax');
    const op = String(operation[keyOf(operation, 'op') ?? 'op'] ?? '').toLowerCase();
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw new ScimError(400, 'op must be add, remove or replace', 'invalidSyntax');
    const path = operation[keyOf(operation, 'path') ?? 'path'];
    if (path !== undefined && path !== null && typeof path !== 'string')
      throw invalidPath('path must be a string');
    return {
      op,
      path: typeof path === 'string' && path.trim() !== '' ? parsePatchPath(path, urn) : undefined,
      value: operation[keyOf(operation, 'value') ?? 'value'],
    };
  });
}

/** Merge `value` into `target`: sub-attributes replaced or added, `null` ones removed (RFC 7644 §3.5.2.3). */
function mergeInto(target: Json, value: Json): void {
  for (const [name, sub] of Object.entries(value)) {
    const key = keyOf(target, name) ?? name;
    if (sub === null) delete target[key];
    else if (isObject(sub) && isObject(target[key])) mergeInto(target[key] as Json, sub);
    else target[key] = sub;
  }
}

const elementValue = (element: unknown): unknown =>
  isObject(element) ? element[keyOf(element, 'value') ?? 'value'] : element;

/** Append the elements not already there (same `value`, or deep-equal when there is none). */
function appendUnique(list: unknown[], added: readonly unknown[]): unknown[] {
  const seen = new Set(list.map((element) => JSON.stringify(elementValue(element) ?? element)));
  for (const element of added) {
    const id = JSON.stringify(elementValue(element) ?? element);
    if (!seen.has(id)) list.push(element);
    seen.add(id);
  }
  return list;
}

/** The object holding the path's attribute: the resource, or its enterprise extension (made when `create`). */
function holderOf(resource: Json, path: PatchPath, create: boolean): Json | undefined {
  if (!path.extension) return resource;
  const key = keyOf(resource, ENTERPRISE_URN) ?? ENTERPRISE_URN;
  if (!isObject(resource[key])) {
    if (!create) return undefined;
    resource[key] = {};
  }
  return resource[key] as Json;
}

/** The `attr eq "x" and …` pairs of a filter, to seed an element a value path creates; undefined otherwise. */
function seedOf(filter: ScimFilter<string>): Json | undefined {
  if (filter.op === 'eq' && filter.value !== null) return { [filter.attribute]: filter.value };
  if (filter.op !== 'and') return undefined;
  const left = seedOf(filter.left);
  const right = seedOf(filter.right);
  return left === undefined || right === undefined ? undefined : { ...left, ...right };
}

function setValue(holder: Json, key: string, op: 'add' | 'replace', value: unknown): void {
  const before = holder[key];
  if (value === null) delete holder[key];
  else if (op === 'add' && (Array.isArray(before) || Array.isArray(value)))
    holder[key] = appendUnique(
      Array.isArray(before) ? [...before] : before === undefined ? [] : [before],
      Array.isArray(value) ? value : [value],
    );
  else if (isObject(value) && isObject(before)) mergeInto(before, value);
  else if (isObject(value)) {
    const fresh: Json = {};
    mergeInto(fresh, value);
    holder[key] = fresh;
  } else holder[key] = value;
}

function setSub(target: Json, sub: string, value: unknown): void {
  const key = keyOf(target, sub) ?? sub;
  if (value === null) delete target[key];
  else if (isObject(value) && isObject(target[key])) mergeInto(target[key] as Json, value);
  else target[key] = value;
}

/** add/replace on a value path: the matching elements, or a new one seeded from the filter when none. */
function writeFiltered(holder: Json, key: string, path: PatchPath, value: unknown, caseExact: boolean): void {
  const filter = path.filter as ScimFilter<string>;
  const list = Array.isArray(holder[key]) ? (holder[key] as unknown[]) : [];
  let matching = list.filter(
    (element): element is Json => isObject(element) && matchesElement(filter, element, caseExact),
  );
  if (matching.length === 0) {
    const seed = seedOf(filter);
    if (seed === undefined) throw noTarget('No element matches the path filter');
    list.push(seed);
    matching = [seed];
  }
  holder[key] = list;
  for (const element of matching) {
    if (path.sub !== undefined) setSub(element, path.sub, value);
    else if (isObject(value)) mergeInto(element, value);
    else throw invalidValue('The value of a value path without a sub-attribute must be an object');
  }
}

function remove(resource: Json, path: PatchPath | undefined, value: unknown, caseExact: boolean): void {
  if (path === undefined) throw noTarget('remove needs a path');
  const holder = holderOf(resource, path, false);
  const key = holder === undefined ? undefined : keyOf(holder, path.name);
  if (holder === undefined || key === undefined) return;
  const current = holder[key];
  if (
    path.filter !== undefined ||
    (path.sub === undefined && value !== undefined && value !== null && Array.isArray(current))
  ) {
    const list = Array.isArray(current) ? current : [];
    const values = new Set(
      (Array.isArray(value) ? value : [value]).map((v) => JSON.stringify(elementValue(v))),
    );
    const hit = (element: unknown) =>
      path.filter === undefined
        ? values.has(JSON.stringify(elementValue(element)))
        : isObject(element) && matchesElement(path.filter, element, caseExact);
    if (path.sub === undefined) {
      const kept = list.filter((element) => !hit(element));
      if (kept.length === 0) delete holder[key];
      else holder[key] = kept;
    } else for (const element of list) if (hit(element) && isObject(element)) setSub(element, path.sub, null);
    return;
  }
  if (path.sub === undefined) delete holder[key];
  else
    for (const element of Array.isArray(current) ? current : [current])
      if (isObject(element)) setSub(element, path.sub, null);
}

function applyOne(resource: Json, operation: PatchOperation, urn: string): void {
  const { op, path, value } = operation;
  if (path === undefined && op === 'remove') throw noTarget('remove needs a path');
  if (path !== undefined && !path.extension && READ_ONLY.has(path.name.toLowerCase())) return;
  const caseExact = path?.name.toLowerCase() === 'members';
  if (op === 'remove') {
    remove(resource, path, value, caseExact);
    return;
  }
  if (path === undefined) {
    if (!isObject(value)) throw invalidValue('An operation without a path needs an object value');
    // Each key is a path of its own: Entra writes `name.givenName` or an extension URN path as a key.
    for (const [name, sub] of Object.entries(value))
      applyOne(resource, { op, path: parsePatchPath(name, urn), value: sub }, urn);
    return;
  }
  const holder = holderOf(resource, path, value !== null) as Json;
  if (holder === undefined) return;
  const key = keyOf(holder, path.name) ?? path.name;
  if (path.filter !== undefined) writeFiltered(holder, key, path, value, caseExact);
  else if (path.sub === undefined) setValue(holder, key, op, value);
  else setSubs(holder, key, path.sub, value);
}

/** A sub-attribute of a complex attribute, or of every element of a multi-valued one. */
function setSubs(holder: Json, key: string, sub: string, value: unknown): void {
  const current = holder[key];
  if (Array.isArray(current)) {
    for (const element of current) if (isObject(element)) setSub(element, sub, value);
    return;
  }
  if (!isObject(current)) holder[key] = {};
  setSub(holder[key] as Json, sub, value);
}

/**
 * Apply a PATCH's operations to a copy of `resource` (the resource as GET answers it) and return the copy.
 * The caller turns it back into a write and writes only when something changed.
 *
 * @throws ScimError 400 `noTarget`, `invalidPath`, `invalidValue` or `invalidFilter`.
 *
 * @example
 * ```ts
 * const ops = parsePatch({ Operations: [{ op: 'Replace', value: { active: 'False' } }] }, USER_URN);
 * applyPatch({ userName: 'ada', active: true }, ops, USER_URN); // { userName: 'ada', active: 'False' }
 * ```
 */
export function applyPatch(resource: Json, operations: readonly PatchOperation[], urn: string): Json {
  const copy = structuredClone(resource);
  for (const operation of operations) applyOne(copy, operation, urn);
  return copy;
}
