import { InvalidRequestError, PayloadTooLargeError } from '@jit-provision/core';
import {
  answerRoute,
  DEFAULT_MAX_BODY_BYTES,
  type Route,
  type RouteRequest,
  type SerializedRouteResponse,
  serializeRouteResponse,
  toHttpResponse,
} from '@jit-provision/core/adapter';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

const write = (out: SerializedRouteResponse) =>
  new Response(out.body ?? null, { status: out.status, headers: out.headers });
/** The SDK's error shape for `err`: its own status for our errors, 500 `server_error` for anything else. */
const respond = (err: unknown) => write(serializeRouteResponse(toHttpResponse(err)));

const HAS_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** The JSON body, whatever the content type (Kratos may send any); undefined when empty. */
async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidRequestError('body must be JSON');
  }
}

const queryOf = (queries: Record<string, string[]>): RouteRequest['query'] => {
  const query: RouteRequest['query'] = {};
  for (const [key, values] of Object.entries(queries)) query[key] = values.length === 1 ? values[0] : values;
  return query;
};

/** The peer address under @hono/node-server (its `incoming` request); undefined on other runtimes. */
const clientAddress = (env: unknown): string | undefined =>
  (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
    ?.remoteAddress;

/**
 * Mount a core route table (e.g. `kratosWebhooks(...).routes`) as a Hono sub-app; mount it with
 * `app.route(prefix, ...)`. Each route's `authorize` runs before its body is read, bodies over
 * `maxBodyBytes` get 413 while streaming, and every error answers in the SDK's error shape. Every answer,
 * including a handler that throws or a body that cannot be serialised (500), goes through core's `answerRoute`.
 *
 * @example
 * ```ts
 * import { subApp } from '@jit-provision/adapter-hono';
 *
 * app.route('/kratos', subApp(kratosWebhooksCore(options).routes));
 * ```
 */
export function subApp(routes: readonly Route[]): Hono {
  const app = new Hono();
  for (const route of routes) {
    const handlers: MiddlewareHandler[] = [];
    const { authorize } = route;
    if (authorize !== undefined) {
      handlers.push(async (c, next) => {
        try {
          authorize(c.req.raw.headers);
        } catch (err) {
          return respond(err);
        }
        return next();
      });
    }
    const hasBody = HAS_BODY.has(route.method);
    if (hasBody) {
      handlers.push(
        bodyLimit({
          maxSize: route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
          onError: () => respond(new PayloadTooLargeError()),
        }),
      );
    }
    handlers.push(async (c) => {
      let body: unknown;
      try {
        body = hasBody ? await jsonBody(c.req.raw) : undefined;
      } catch (err) {
        return respond(err);
      }
      const request: RouteRequest = {
        headers: c.req.raw.headers,
        query: queryOf(c.req.queries()),
        params: c.req.param() as Record<string, string>,
        body,
        ip: clientAddress(c.env),
      };
      return write(await answerRoute(route, request));
    });
    app.on(route.method, route.path, ...(handlers as [MiddlewareHandler]));
  }
  return app;
}
