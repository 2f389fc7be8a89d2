import {
  admitRoute,
  answerRoute,
  bodyErrorResponse,
  DEFAULT_MAX_BODY_BYTES,
  declaresBody,
  type Route,
  type RouteRequest,
  readRouteBody,
  routeTakesBody,
  type SerializedRouteResponse,
  serializeRouteResponse,
  toHttpResponse,
  unmatchedRouteResponse,
} from '@jit-provision/core/adapter';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { clientAddressOf, type GetConnInfo } from './conn-info';
import { markPublic } from './public-routes';

const write = (out: SerializedRouteResponse) =>
  new Response(out.body ?? null, { status: out.status, headers: out.headers });
const queryOf = (queries: Record<string, string[]>): RouteRequest['query'] => {
  const query: RouteRequest['query'] = {};
  for (const [key, values] of Object.entries(queries)) query[key] = values.length === 1 ? values[0] : values;
  return query;
};

/** Options of {@link subApp}. */
export interface SubAppOptions {
  /**
   * Where a route reads the client address (`RouteRequest.ip`: the invitation `peek`'s rate limit): the
   * runtime's `getConnInfo` helper, e.g. from `hono/bun`, `hono/deno`, `hono/cloudflare-workers` or
   * `@hono/node-server/conninfo`. Default: the same reads, picked by the runtime Hono detects.
   */
  getConnInfo?: GetConnInfo;
}

/** One route's handler: admit on the headers, then read the body, then answer. */
function routeHandler(route: Route, getConnInfo: GetConnInfo | undefined): MiddlewareHandler {
  const takesBody = routeTakesBody(route);
  const bounds = {
    bodyType: route.bodyType ?? 'json',
    maxBodyBytes: route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  };
  return async (c: Context) => {
    const raw = c.req.raw;
    // A web Request built in process may carry a body no length header announces: readRouteBody holds the
    // media-type rule for it once a byte arrives.
    const admitted = await admitRoute(route, raw.headers, takesBody && declaresBody(raw.headers));
    if (!admitted.ok) return write(admitted.response);
    let body: unknown;
    try {
      // Core reads and limits the body, and maps its failures as it maps Express' and Fastify's.
      body = takesBody ? await readRouteBody(raw, bounds) : undefined;
    } catch (err) {
      return write(serializeRouteResponse(bodyErrorResponse(err, route) ?? toHttpResponse(err)));
    }
    const request: RouteRequest = {
      headers: raw.headers,
      query: queryOf(c.req.queries()),
      params: c.req.param() as Record<string, string>,
      body,
      ip: clientAddressOf(c, getConnInfo),
      auth: admitted.auth,
    };
    return write(await answerRoute(route, request));
  };
}

/**
 * Mount a core route table (e.g. `kratosWebhooks(...).routes`) as a Hono sub-app; mount it with
 * `app.route(prefix, ...)`. Each route's `authorize` and `authenticate` run before its body is read (a
 * refused caller costs no read or parse), a body must be `application/json` (or `+json`, UTF-8; a form route: a UTF-8 form; else 415,
 * where Hono would parse `text/plain`, forms or no type at all), core's `readRouteBody` reads it (a form route: a UTF-8 form) (413 over
 * `maxBodyBytes`, counted while streaming), and every error answers in the SDK's error shape, as does a
 * request under the prefix that matches no route (404 `not_found`). A route marked `public` needs no token
 * from an app-wide `jitProvision`. Every answer, including a handler that throws or a body that cannot be
 * serialised (500), goes through core's `answerRoute`. The client address a route sees comes from the
 * runtime's own API (`options.getConnInfo`, else detected: Node, Bun, Deno, workerd).
 *
 * @example
 * ```ts
 * import { kratosWebhooks } from '@jit-provision/core/kratos';
 * import { subApp } from '@jit-provision/adapter-hono';
 *
 * app.route('/kratos', subApp(kratosWebhooks(options).routes));
 * ```
 */
export function subApp(routes: readonly Route[], options: SubAppOptions = {}): Hono {
  const app = new Hono();
  for (const route of routes) {
    const handler = routeHandler(route, options.getConnInfo);
    if (route.public === true) markPublic(handler);
    app.on(route.method, route.path, handler);
  }
  // Under its own prefix the table answers what it does not know; mounted at the root it lets the app go on.
  app.all('*', (c, next) => (c.req.routePath === '/*' ? next() : write(unmatchedRouteResponse())));
  return app;
}
