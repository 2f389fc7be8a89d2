import {
  type HttpResponse,
  InvalidRequestError,
  isJitProvisionError,
  NotFoundError,
  PayloadTooLargeError,
  toHttpResponse,
  UnsupportedMediaTypeError,
} from '../errors';
import { headerValue } from '../internal';
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
  /**
   * What the route's {@link Route.authenticate} returned, set by the mounter after that step passed and
   * before the body was read; undefined for a route without one. Only a mounter sets it: never from input.
   */
  auth?: unknown;
}

/** What a route's {@link Route.authenticate} step gets: only the headers, since the body is not read yet. */
export interface RouteAuthRequest {
  headers: AuthInput['headers'];
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
  /**
   * Verify the caller before the body is read (after `authorize`): throw a JitProvisionError (401, 403) to
   * refuse, so a caller without credentials costs no body read, parse or walk. What it returns reaches the
   * handler as `request.auth`.
   */
  authenticate?(request: RouteAuthRequest): Promise<unknown>;
  /**
   * Needs no bearer token: an app-wide `jitProvision` (Fastify, Hono) lets a request without an
   * `Authorization` header through to it with no `auth`. A token that is present is still verified, and an
   * invalid one is still 401. The route's own `authorize`/`authenticate` run either way.
   */
  public?: boolean;
  /** Headers added to every answer of this route, errors included (e.g. `cache-control: no-store`). */
  headers?: Record<string, string>;
  /**
   * The error shape of a protocol with its own (SCIM's Error schema): given the SDK's error answer and what
   * was thrown, the answer to send instead. Applied to every error of this route that its handler does not
   * answer itself: `authorize`/`authenticate` refusals (401 keeps its `WWW-Authenticate` when the result keeps
   * `response.headers`), 415, body errors (413, bad JSON, depth and node bounds) and handler throws. Must not
   * throw.
   */
  errorResponse?(response: HttpResponse, err: unknown): RouteResponse;
  /**
   * The body this route takes: `'json'` (default; `application/json` or `+json`) or `'form'`
   * (`application/x-www-form-urlencoded`, e.g. a back-channel logout token), read into an object of strings
   * (a repeated field: a list). Any other media type gets 415.
   */
  bodyType?: 'json' | 'form';
  /** Largest body accepted, bytes; a bigger one gets 413 while it is read. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Most JSON values (objects, arrays and scalars) a body may hold; more gets 413. Default {@link DEFAULT_MAX_BODY_NODES}. */
  maxBodyNodes?: number;
}

/** Default of {@link Route.maxBodyBytes}: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * Default of {@link Route.maxBodyNodes}: 10,000 JSON values. A webhook or admin body holds tens to hundreds;
 * a 1 MiB body of `[[],[],…]` holds 350,000, each one walked and handed to the handler.
 */
export const DEFAULT_MAX_BODY_NODES = 10_000;

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

/**
 * The error of a body that nests deeper than `maxDepth` (400) or holds more than `maxNodes` values (413);
 * undefined when it fits. Iterative, so a hostile depth cannot overflow the stack here, and it stops at the
 * first value over either bound.
 */
function bodyShapeError(value: unknown, maxDepth: number, maxNodes: number): Error | undefined {
  if (value === undefined) return undefined;
  let nodes = 1;
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, depth] = top;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > maxDepth) return new InvalidRequestError(`body must not nest deeper than ${maxDepth} levels`);
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      nodes += 1;
      if (nodes > maxNodes)
        return new PayloadTooLargeError(`body must not hold more than ${maxNodes} values`);
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

const TAKES_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** True for the methods whose body a mounter reads and hands to the handler (POST, PUT, PATCH). */
export const routeTakesBody = (route: Pick<Route, 'method'>): boolean => TAKES_BODY.has(route.method);

/**
 * The one media-type rule of every route table: `application/json` or `application/*+json`, with no
 * `charset` or `charset=utf-8`. A repeated or missing header is not JSON.
 *
 * @example
 * ```ts
 * isJsonMediaType('application/json; charset=utf-8'); // true
 * isJsonMediaType('application/scim+json');           // true
 * isJsonMediaType('text/plain');                      // false
 * ```
 */
export function isJsonMediaType(value: string | string[] | null | undefined): boolean {
  if (typeof value !== 'string') return false;
  const [type = '', ...params] = value.split(';');
  const media = type.trim().toLowerCase();
  if (media !== 'application/json' && !/^application\/[a-z0-9!#$&^_.-]+\+json$/.test(media)) return false;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (
      param
        .slice(0, eq === -1 ? undefined : eq)
        .trim()
        .toLowerCase() !== 'charset'
    )
      continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (eq === -1 || charset !== 'utf-8') return false;
  }
  return true;
}

/**
 * The media-type rule of a form route: `application/x-www-form-urlencoded`, with no `charset` or
 * `charset=utf-8`. A repeated or missing header is not a form.
 *
 * @example
 * ```ts
 * isFormMediaType('application/x-www-form-urlencoded'); // true
 * isFormMediaType('application/json');                  // false
 * ```
 */
export function isFormMediaType(value: string | string[] | null | undefined): boolean {
  if (typeof value !== 'string') return false;
  const [type = '', ...params] = value.split(';');
  if (type.trim().toLowerCase() !== 'application/x-www-form-urlencoded') return false;
  return params.every((param) => {
    const [name = '', charset = ''] = param.split('=');
    return (
      name.trim().toLowerCase() !== 'charset' ||
      charset
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase() === 'utf-8'
    );
  });
}

/** Whether `contentType` is what `route` takes ({@link isJsonMediaType} or, for a form route, {@link isFormMediaType}). */
export const routeAcceptsMediaType = (
  route: Pick<Route, 'bodyType'>,
  contentType: string | string[] | null | undefined,
): boolean => (route.bodyType === 'form' ? isFormMediaType(contentType) : isJsonMediaType(contentType));

/**
 * A form body (`application/x-www-form-urlencoded`, UTF-8) as a route handler reads it: an object without a
 * prototype, each field a string, a repeated field a list in order.
 *
 * @example
 * ```ts
 * parseFormBody('logout_token=eyJ...&a=1&a=2'); // { logout_token: 'eyJ...', a: ['1', '2'] }
 * ```
 */
export function parseFormBody(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const before = out[key];
    out[key] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
  }
  return out;
}

/**
 * True when the headers announce a body: a `transfer-encoding`, or a `content-length` other than 0.
 * A request without either has none (RFC 9112 §6.3), so a body-less POST needs no content type.
 */
export function declaresBody(headers: AuthInput['headers']): boolean {
  if (headerValue(headers, 'transfer-encoding') !== undefined) return true;
  const length = headerValue(headers, 'content-length');
  return length !== undefined && !(typeof length === 'string' && /^\s*0+\s*$/.test(length));
}

/** Whether a mounter may go on to read the body: `auth` is what `authenticate` returned. */
export type RouteAdmission = { ok: true; auth: unknown } | { ok: false; response: SerializedRouteResponse };

const ADMITTED: RouteAdmission = Object.freeze({ ok: true, auth: undefined });

/** The route's own error shape when it has one ({@link Route.errorResponse}). */
function shapeError(
  route: Pick<Route, 'errorResponse'> | undefined,
  out: HttpResponse,
  err: unknown,
): RouteResponse {
  if (route?.errorResponse === undefined) return out;
  try {
    return route.errorResponse(out, err);
  } catch {
    return out;
  }
}

/** A route's error answer, its own headers added. */
function routeErrorResponse(route: Route, err: unknown): SerializedRouteResponse {
  const out = shapeError(route, toHttpResponse(err), err);
  return serializeRouteResponse(
    route.headers === undefined ? out : { ...out, headers: { ...out.headers, ...route.headers } },
  );
}

/**
 * What a mounter runs on a request's headers before it reads a byte of the body: the route's `authorize`,
 * then its `authenticate`, then the media-type rule ({@link isJsonMediaType}, 415 `unsupported_media_type`)
 * for a route that takes a body when the request carries one. Resolves in every case (never rejects).
 *
 * @param hasBody Whether the request carries a body; default {@link declaresBody} of the headers.
 *
 * @example
 * ```ts
 * const admitted = await admitRoute(route, req.headers);
 * if (!admitted.ok) return write(res, admitted.response);
 * // read the body within route.maxBodyBytes, then: answerRoute(route, { ...request, auth: admitted.auth })
 * ```
 */
export async function admitRoute(
  route: Route,
  headers: AuthInput['headers'],
  hasBody: boolean = declaresBody(headers),
): Promise<RouteAdmission> {
  try {
    route.authorize?.(headers);
    const auth = route.authenticate === undefined ? undefined : await route.authenticate({ headers });
    if (
      hasBody &&
      routeTakesBody(route) &&
      !routeAcceptsMediaType(route, headerValue(headers, 'content-type'))
    )
      throw new UnsupportedMediaTypeError();
    return auth === undefined ? ADMITTED : { ok: true, auth };
  } catch (err) {
    return { ok: false, response: routeErrorResponse(route, err) };
  }
}

/**
 * The answer to a request under a mounted route table that matches none of its routes, whatever the
 * framework: 404 `not_found` in the SDK's error shape (a path that exists for another method too, as
 * Express answers it).
 *
 * @example
 * ```ts
 * app.setNotFoundHandler((_request, reply) => write(reply, unmatchedRouteResponse()));
 * ```
 */
export function unmatchedRouteResponse(): SerializedRouteResponse {
  return serializeRouteResponse(toHttpResponse(new NotFoundError('No such route')));
}

/**
 * The path a router matches for a request URL: no query string or fragment, percent-decoded as Fastify
 * (find-my-way) and Hono decode it before routing (`decodeURI`: `%2F` and the other reserved characters
 * stay encoded, `%25` stays `%25`). What `skip` gets, so `/%61pi/x` is seen as the `/api/x` it is routed to.
 * A malformed escape leaves the path as it is.
 *
 * @example
 * ```ts
 * routedPath('/%61pi/x?y=1'); // '/api/x'
 * ```
 */
export function routedPath(url: string): string {
  let end = url.indexOf('?');
  const hash = url.indexOf('#');
  if (hash !== -1 && (end === -1 || hash < end)) end = hash;
  const path = (end === -1 ? url : url.slice(0, end)) || '/';
  if (!path.includes('%')) return path;
  try {
    return decodeURI(path.replace(/%25/g, '%2525'));
  } catch {
    return path;
  }
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
 * `invalid_request`, or holding more than the route's `maxBodyNodes` values with 413 `payload_too_large`,
 * before any work; run the handler, map any throw to the one error shape, add the route's `headers`, and
 * serialise the answer. Resolves in every case (never rejects), so a mounter only writes what it gets: no request can
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
    const shape = bodyShapeError(request.body, MAX_BODY_DEPTH, route.maxBodyNodes ?? DEFAULT_MAX_BODY_NODES);
    if (shape !== undefined) throw shape;
    out = await route.handler(request);
  } catch (err) {
    return routeErrorResponse(route, err);
  }
  if (route.headers !== undefined) out = { ...out, headers: { ...route.headers, ...out.headers } };
  return serializeRouteResponse(out);
}

/**
 * The answer to an error a framework raised while reading a route's body, in the SDK's error shape:
 * a JitProvisionError keeps its own; HTTP 413 becomes `payload_too_large`; any other 4xx (bad JSON, wrong
 * content type) becomes `invalid_request`. Undefined for anything else, which is not a body error. With the
 * `route` it was reading for, that route's `errorResponse` shapes it and its `headers` are added.
 *
 * @example
 * ```ts
 * app.setErrorHandler((err, _req, reply) => {
 *   const out = bodyErrorResponse(err) ?? toHttpResponse(err);
 *   return reply.code(out.status).headers(out.headers).send(out.body);
 * });
 * ```
 */
export function bodyErrorResponse(err: unknown): HttpResponse | undefined;
export function bodyErrorResponse(
  err: unknown,
  route?: Pick<Route, 'headers' | 'errorResponse'>,
): RouteResponse | undefined;
export function bodyErrorResponse(
  err: unknown,
  route?: Pick<Route, 'headers' | 'errorResponse'>,
): RouteResponse | undefined {
  const found = bodyError(err);
  if (found === undefined) return undefined;
  const out = shapeError(route, found, err);
  if (route?.headers === undefined) return out;
  return { ...out, headers: { ...out.headers, ...route.headers } };
}

function bodyError(err: unknown): HttpResponse | undefined {
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
 * Its failures are ours, so {@link bodyErrorResponse} maps them exactly as it maps theirs. The media-type
 * rule is {@link isJsonMediaType}'s, as in {@link admitRoute}; it holds here too for a `Request` whose body
 * no length header announces (one built in process), once a byte of it arrives.
 *
 * @returns The parsed body; undefined when the request has none or it is empty.
 * @throws PayloadTooLargeError (413 `payload_too_large`) when the declared length or the bytes read exceed
 * `maxBytes`; counting while reading also holds a body that declares less than it sends.
 * @throws InvalidRequestError (400 `invalid_request`) when the body is not JSON.
 * @throws UnsupportedMediaTypeError (415 `unsupported_media_type`) when a body is not declared as JSON.
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
  return readRouteBody(request, { maxBodyBytes: maxBytes });
}

/**
 * {@link readJsonBody} for any route: the body its `bodyType` takes (JSON, or a form read by
 * {@link parseFormBody}), within its `maxBodyBytes`, the media type checked by {@link routeAcceptsMediaType}.
 *
 * @example
 * ```ts
 * const body = await readRouteBody(request, route); // { logout_token: '…' } for a form route
 * ```
 */
export async function readRouteBody(
  request: Request,
  route: Pick<Route, 'bodyType' | 'maxBodyBytes'>,
): Promise<unknown> {
  const text = await readBodyText(request, route);
  if (text === undefined || text === '') return undefined;
  if (route.bodyType === 'form') return parseFormBody(text);
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidRequestError('body must be JSON');
  }
}

/** The body's text, read within the bound; undefined when there is none. */
async function readBodyText(
  request: Request,
  route: Pick<Route, 'bodyType' | 'maxBodyBytes'>,
): Promise<string | undefined> {
  const maxBytes = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const stream = request.body;
  if (stream === null) return undefined;
  const accepted = routeAcceptsMediaType(route, request.headers.get('content-type'));
  if (!accepted && declaresBody(request.headers)) throw new UnsupportedMediaTypeError();
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
  if (!accepted) throw new UnsupportedMediaTypeError();
  const bytes = chunks.length === 1 ? (chunks[0] as Uint8Array) : new Uint8Array(size);
  if (chunks.length > 1) {
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
  }
  // TextDecoder drops a leading BOM and replaces bad UTF-8, as `request.text()` does.
  return new TextDecoder().decode(bytes);
}
