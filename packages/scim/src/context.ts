import type { DirectoryProvisioning } from '@jit-provision/core';
import type { RouteRequest, RouteResponse } from '@jit-provision/core/adapter';
import { headerOf } from './auth';
import { invalidValue, SCIM_CONTENT_TYPE, scimErrorResponse } from './errors';
import { type Projection, parseAttributePaths } from './projection';
import type { ResourceContext } from './resources';

/** What the SCIM route groups share. */
export interface ScimContext {
  directory: DirectoryProvisioning;
  resources: ResourceContext;
  maxResults: number;
}

/** A SCIM answer: always `application/scim+json`. */
export const scimJson = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): RouteResponse => ({
  status,
  headers: { 'content-type': SCIM_CONTENT_TYPE, ...headers },
  body,
});

/** Wrap a route body so every failure answers in the SCIM Error shape. */
export const scimHandler =
  (run: (request: RouteRequest) => Promise<RouteResponse>) =>
  async (request: RouteRequest): Promise<RouteResponse> => {
    try {
      return await run(request);
    } catch (err) {
      return scimErrorResponse(err);
    }
  };

/** One query value: the first when repeated. */
export function queryValue(request: RouteRequest, name: string): string | undefined {
  const key = Object.keys(request.query).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : request.query[key];
  return Array.isArray(value) ? value[0] : value;
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\s*-?\d{1,15}\s*$/.test(value)) throw invalidValue(`${name} must be an integer`);
  return Number.parseInt(value, 10);
}

/**
 * `startIndex` (1-based; below 1 is 1) and `count` (default and cap `maxResults`; below 0 is 0), as
 * RFC 7644 §3.4.2.4 says a server treats them.
 */
export function pageOf(request: RouteRequest, maxResults: number): { startIndex: number; count: number } {
  const startIndex = Math.max(1, integer(queryValue(request, 'startIndex'), 'startIndex') ?? 1);
  const count = Math.min(
    maxResults,
    Math.max(0, integer(queryValue(request, 'count'), 'count') ?? maxResults),
  );
  return { startIndex, count };
}

/** The `attributes`/`excludedAttributes` of a request. */
export const viewOf = (request: RouteRequest, urn: string): Projection => ({
  attributes: parseAttributePaths(queryValue(request, 'attributes'), urn),
  excluded: parseAttributePaths(queryValue(request, 'excludedAttributes'), urn),
});

/** The version an `If-Match` names (`W/"3"` or `"3"`); undefined for none or `*`. */
export function ifMatchVersion(request: RouteRequest): number | undefined {
  const value = headerOf(request.headers, 'if-match');
  if (value === undefined || value.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(value);
  // An ETag this server never made can match no version: -1 is one no record has.
  return match === null ? -1 : Number(match[1]);
}

/** The `:id` of a route. */
export const idOf = (request: RouteRequest): string => request.params['id'] ?? '';

/** A deterministic JSON text (keys sorted), to tell a changed resource from an unchanged one. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
