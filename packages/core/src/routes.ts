import { InvalidRequestError, isJitProvisionError, PayloadTooLargeError } from './errors';
import { type HttpResponse, toHttpResponse } from './http';
import type { AuthInput } from './types';

/** HTTP methods a route table uses. */
export type RouteMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** The framework-neutral request a route handler reads. */
export interface RouteRequest {
  headers: AuthInput['headers'];
  /** Query string values; a repeated key gives a list. */
  query: Record<string, string | string[] | undefined>;
  /** Values of the `:name` segments of the route's path. */
  params: Record<string, string>;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
  /**
   * The client's address as the framework sees it (Express `req.ip`, Fastify `request.ip`, the Node socket
   * under Hono), honouring the framework's own proxy-trust setting; for per-client rate limits.
   */
  ip?: string | undefined;
}

/** The neutral answer; `body` is JSON-serialisable (none for e.g. 204). */
export interface RouteResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * One entry of a route table (`kratosWebhooks(...).routes`). Adapters mount a whole table with one
 * generic mounter; no adapter lists a route by hand.
 */
export interface Route {
  method: RouteMethod;
  /** Relative to where the table is mounted; `:name` segments become `params.name`. */
  path: string;
  handler(request: RouteRequest): Promise<RouteResponse>;
  /** Run on the headers before the body is read; throws a JitProvisionError (e.g. 401) to refuse. */
  authorize?(headers: AuthInput['headers']): void;
  /** Largest JSON body accepted, bytes; a bigger one gets 413 while it is read. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** Default of {@link Route.maxBodyBytes}: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * The answer to an error a framework raised while reading a route's body, in the SDK's error shape:
 * a JitProvisionError keeps its own; HTTP 413 becomes `payload_too_large`; any other 4xx (bad JSON, wrong
 * content type) becomes `invalid_request`. Undefined for anything else, which is not a body error.
 *
 * @example
 * ```ts
 * app.setErrorHandler((err, _req, reply) => {
 *   const out = bodyErrorResponse(err) ?? toHttpResponse(err);
 *   return reply.code(out.status).headers(out.headers).send(out.body);
 * });
 * ```
 */
export function bodyErrorResponse(err: unknown): HttpResponse | undefined {
  if (isJitProvisionError(err)) return toHttpResponse(err);
  const { status, statusCode } = (typeof err === 'object' && err !== null ? err : {}) as {
    status?: unknown;
    statusCode?: unknown;
  };
  const code = typeof status === 'number' ? status : statusCode;
  if (code === 413) return toHttpResponse(new PayloadTooLargeError());
  if (typeof code === 'number' && code >= 400 && code < 500)
    return toHttpResponse(new InvalidRequestError('body must be a JSON object'));
  return undefined;
}
