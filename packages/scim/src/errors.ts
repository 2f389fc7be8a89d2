import { isJitProvisionError } from '@jit-provision/core';
import { type HttpResponse, type RouteResponse, toHttpResponse } from '@jit-provision/core/adapter';

/** The SCIM media type of every answer (RFC 7644 §3.1). */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The `scimType` values of RFC 7644 §3.12 this server answers. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers';

/** The SCIM Error resource (RFC 7644 §3.12): `status` is a string. */
export interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

/**
 * A refusal of the SCIM wire layer itself (a bad filter, a PATCH that names no target): answered with the
 * SCIM Error body, never the SDK's `{ error, error_description }`.
 */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;

  constructor(status: number, detail: string, scimType?: ScimType) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
  }
}

/** 400 `invalidValue`: the common refusal of a body attribute. */
export const invalidValue = (detail: string) => new ScimError(400, detail, 'invalidValue');
/** 404: absent, hidden by a SCIM DELETE, or never seen by SCIM. */
export const notFound = (kind: 'User' | 'Group', id: string) =>
  new ScimError(404, `${kind} ${JSON.stringify(id)} not found`);

const body = (status: number, detail: string, scimType?: ScimType): ScimErrorBody => ({
  schemas: [ERROR_SCHEMA],
  status: String(status),
  ...(scimType === undefined ? {} : { scimType }),
  detail,
});

/** What a core error code becomes in SCIM: a status and a `scimType` (RFC 7644 §3.12). */
function coreErrorShape(err: unknown, status: number): { status: number; scimType?: ScimType } {
  if (isJitProvisionError(err, 'scim_conflict'))
    // A stale If-Match is a failed precondition, not a uniqueness clash.
    return err.attribute === 'version' ? { status: 412 } : { status: 409, scimType: 'uniqueness' };
  if (isJitProvisionError(err, 'invalid_request')) return { status: 400, scimType: 'invalidSyntax' };
  if (isJitProvisionError(err, 'invalid_field', 'invalid_identity'))
    return { status: 400, scimType: 'invalidValue' };
  // A framework's body error (bad JSON) that core already mapped to 400.
  if (status === 400) return { status, scimType: 'invalidSyntax' };
  return { status };
}

/**
 * Any failure as a SCIM answer: a {@link ScimError} as it says, a core error by its code (409 `uniqueness`,
 * 412 for a version, 400 `invalidSyntax`/`invalidValue`, 401 with its `WWW-Authenticate`, 413, 404), anything
 * else 500 with a fixed detail (what failed inside is not the client's to learn). `response` is the SDK's
 * answer when core mapped it already (a route's `errorResponse` hook: a framework's body error).
 */
export function scimErrorResponse(err: unknown, response?: HttpResponse): RouteResponse {
  const headers: Record<string, string> = { 'content-type': SCIM_CONTENT_TYPE };
  if (err instanceof ScimError)
    return { status: err.status, headers, body: body(err.status, err.message, err.scimType) };
  const out = response ?? toHttpResponse(err);
  const { status, scimType } = coreErrorShape(err, out.status);
  return {
    status,
    headers: { ...out.headers, ...headers },
    body: body(status, out.body.error_description, scimType),
  };
}
