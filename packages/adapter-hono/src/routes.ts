import {
  answerRoute,
  bodyErrorResponse,
  DEFAULT_MAX_BODY_BYTES,
  type Route,
  type RouteRequest,
  readJsonBody,
  type SerializedRouteResponse,
  serializeRouteResponse,
  toHttpResponse,
} from '@jit-provision/core/adapter';
import { Hono, type MiddlewareHandler } from 'hono';

const write = (out: SerializedRouteResponse) =>
  new Response(out.body ?? null, { status: out.status, headers: out.headers });
/** The SDK's error shape for `err`: its own status for our errors, 500 `server_error` for anything else. */
const respond = (err: unknown) => write(serializeRouteResponse(toHttpResponse(err)));

const HAS_BODY = new Set(['POST', 'PUT', 'PATCH']);

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
 * `app.route(prefix, ...)`. Each route's `authorize` runs before its body is read, core's `readJsonBody`
 * reads the body (413 over `maxBodyBytes`, counted while streaming), and every error answers in the SDK's error shape. Every answer,
 * including a handler that throws or a body that cannot be serialised (500), goes through core's `answerRoute`.
 *
 * @example
 * ```ts
 * import { kratosWebhooks } from '@jit-provision/core/kratos';
 * import { subApp } from '@jit-provision/adapter-hono';
 *
 * app.route('/kratos', subApp(kratosWebhooks(options).routes));
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
    const maxBodyBytes = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    handlers.push(async (c) => {
      let body: unknown;
      try {
        // Core reads and limits the body, and maps its failures as it maps Express' and Fastify's.
        body = hasBody ? await readJsonBody(c.req.raw, maxBodyBytes) : undefined;
      } catch (err) {
        return write(serializeRouteResponse(bodyErrorResponse(err) ?? toHttpResponse(err)));
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
