import {
  type HttpResponse,
  InvalidRequestError,
  isJitProvisionError,
  PayloadTooLargeError,
  toHttpResponse,
} from '../errors';
import type { AuthInput } from '../types';

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

/** Largest Kratos webhook body accepted: 1 MiB. Here, beside the other body bounds, so every mounter reads it. */
export const KRATOS_MAX_BODY_BYTES = 1_048_576;

/**
 * Deepest JSON nesting a route body may have (the top-level object is depth 1); deeper gets 400
 * `invalid_request` before the handler runs. No legitimate webhook or admin body comes near it (a whole
 * Kratos registration context is under 10), while a 12 KB body can nest 6,000 deep and overflow the stack
 * of whatever walks or serialises it.
 */
export const MAX_BODY_DEPTH = 32;

/** A route's answer ready to write: the body already serialised, so writing it cannot throw. */
export interface SerializedRouteResponse {
  status: number;
  headers: Record<string, string>;
  /** The JSON text; undefined when there is no body (e.g. 204). */
  body: string | undefined;
}

/** True when `value` nests deeper than `max`; iterative, so a hostile depth cannot overflow the stack here. */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, depth] = top;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Serialise a route's (or an error's) answer. Never throws: a body that cannot be serialised (a BigInt, a
 * cycle, nesting that overflows `JSON.stringify`) becomes the one error shape's 500 `server_error`.
 *
 * @example
 * ```ts
 * const out = serializeRouteResponse(toHttpResponse(err));
 * res.writeHead(out.status, out.headers).end(out.body);
 * ```
 */
export function serializeRouteResponse(out: RouteResponse): SerializedRouteResponse {
  const headers = { ...out.headers };
  if (out.body === undefined) return { status: out.status, headers, body: undefined };
  try {
    const body = JSON.stringify(out.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
    return { status: out.status, headers, body };
  } catch (err) {
    const failed = toHttpResponse(err);
    return { status: failed.status, headers: failed.headers, body: JSON.stringify(failed.body) };
  }
}

/**
 * Run one route for an adapter's mounter: refuse a body nested deeper than {@link MAX_BODY_DEPTH} with 400
 * `invalid_request` before any work, run the handler, map any throw to the one error shape, and serialise
 * the answer. Resolves in every case (never rejects), so a mounter only writes what it gets: no request can
 * turn into an unhandled rejection that ends the process.
 *
 * @example
 * ```ts
 * const out = await answerRoute(route, { headers, query, params, body });
 * res.writeHead(out.status, out.headers).end(out.body);
 * ```
 */
export async function answerRoute(route: Route, request: RouteRequest): Promise<SerializedRouteResponse> {
  let out: RouteResponse;
  try {
    if (nestsDeeperThan(request.body, MAX_BODY_DEPTH)) {
      throw new InvalidRequestError(`body must not nest deeper than ${MAX_BODY_DEPTH} levels`);
    }
    out = await route.handler(request);
  } catch (err) {
    out = toHttpResponse(err);
  }
  return serializeRouteResponse(out);
}

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

/**
 * The JSON body of a web `Request` for a route, read within `maxBytes`: the body parser of a mounter on a
 * fetch-style framework (Hono; any Bun, Deno or workerd server), where Express and Fastify bring their own.
 * Its failures are ours, so {@link bodyErrorResponse} maps them exactly as it maps theirs. Any content type
 * is read as JSON (Kratos may send any).
 *
 * @returns The parsed body; undefined when the request has none or it is empty.
 * @throws PayloadTooLargeError (413 `payload_too_large`) when the declared length or the bytes read exceed
 * `maxBytes`; counting while reading also holds a body that declares less than it sends.
 * @throws InvalidRequestError (400 `invalid_request`) when the body is not JSON.
 *
 * @example
 * ```ts
 * let body: unknown;
 * try {
 *   body = await readJsonBody(request, route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
 * } catch (err) {
 *   return serializeRouteResponse(bodyErrorResponse(err) ?? toHttpResponse(err));
 * }
 * ```
 */
export async function readJsonBody(
  request: Request,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
): Promise<unknown> {
  const stream = request.body;
  if (stream === null) return undefined;
  const declared = request.headers.get('content-length');
  // With chunked transfer a content-length is not the size; without it, refuse before reading a byte.
  if (
    declared !== null &&
    !request.headers.has('transfer-encoding') &&
    Number.parseInt(declared, 10) > maxBytes
  )
    throw new PayloadTooLargeError();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength;
    if (size > maxBytes) throw new PayloadTooLargeError();
    chunks.push(read.value);
  }
  if (size === 0) return undefined;
  const bytes = chunks.length === 1 ? (chunks[0] as Uint8Array) : new Uint8Array(size);
  if (chunks.length > 1) {
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
  }
  // TextDecoder drops a leading BOM and replaces bad UTF-8, as `request.text()` does.
  const text = new TextDecoder().decode(bytes);
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidRequestError('body must be JSON');
  }
}
