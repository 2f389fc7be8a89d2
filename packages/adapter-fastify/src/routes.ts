import {
  admitRoute,
  answerRoute,
  bodyErrorResponse,
  DEFAULT_MAX_BODY_BYTES,
  parseFormBody,
  type Route,
  type RouteRequest,
  routeTakesBody,
  type SerializedRouteResponse,
  serializeRouteResponse,
  toHttpResponse,
  unmatchedRouteResponse,
} from '@jit-provision/core/adapter';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ROUTE_KEY, tableRouteOf } from './table-route';

// The body is already JSON text (serialised by core, where a failure becomes a 500), so Fastify sends it as is.
const write = (reply: FastifyReply, out: SerializedRouteResponse) =>
  reply.code(out.status).headers(out.headers).send(out.body);

// What each request's `authenticate` step returned, from the hook to the handler; gone with the request.
const admittedAuth = new WeakMap<FastifyRequest, unknown>();

/**
 * Mount a core route table (e.g. `kratosWebhooks(...).routes`) as a Fastify plugin, under the prefix you
 * register it with: each route's `authorize` and `authenticate` run in `onRequest` (before the body is
 * read; a refused caller costs no read or parse), a body must be `application/json` (or `+json`, UTF-8; a form route: a UTF-8 form;
 * else 415), bodies are limited to `maxBodyBytes`, and body errors answer in the SDK's error shape, as does
 * a request under the prefix that matches no route (404 `not_found`, where Fastify would echo the method
 * and path). A route marked `public` needs no token from an app-wide `jitProvision`. Every answer, including
 * a handler that throws or a body that cannot be serialised (500), goes through core's `answerRoute`.
 * Encapsulated (not fastify-plugin wrapped) so its error handler, parser and prefix stay its own.
 *
 * @example
 * ```ts
 * import { kratosWebhooks } from '@jit-provision/core/kratos';
 * import { routesPlugin } from '@jit-provision/adapter-fastify';
 *
 * await app.register(routesPlugin(kratosWebhooks(options).routes), { prefix: '/kratos' });
 * ```
 */
export function routesPlugin(routes: readonly Route[]): FastifyPluginAsync {
  return async function jitProvisionRoutes(app) {
    app.setErrorHandler((err, request, reply) => {
      const route = tableRouteOf(request);
      return write(reply, serializeRouteResponse(bodyErrorResponse(err, route) ?? toHttpResponse(err)));
    });
    // Under its own prefix the table answers what it does not know; at the root, the app's 404 stays the app's.
    if (app.prefix !== '')
      app.setNotFoundHandler((_request, reply) => write(reply, unmatchedRouteResponse()));
    // One parser for every type: admitRoute refused anything but JSON before the body was read. Fastify's
    // own JSON parser keeps its prototype-poisoning checks; an empty body is no body.
    const json = app.getDefaultJsonParser(
      app.initialConfig.onProtoPoisoning ?? 'error',
      app.initialConfig.onConstructorPoisoning ?? 'error',
    );
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
      const route = tableRouteOf(request);
      if (body === '' || route === undefined || !routeTakesBody(route)) return done(null, undefined);
      if (route.bodyType === 'form') return done(null, parseFormBody(body as string));
      json(request, body as string, done);
    });
    for (const route of routes) {
      app.route({
        method: route.method,
        url: route.path,
        bodyLimit: route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        config: { [ROUTE_KEY]: route },
        onRequest: async (request, reply) => {
          const admitted = await admitRoute(route, request.headers);
          if (!admitted.ok) return write(reply, admitted.response);
          if (admitted.auth !== undefined) admittedAuth.set(request, admitted.auth);
        },
        handler: async (request, reply) => {
          const input: RouteRequest = {
            headers: request.headers,
            query: request.query as RouteRequest['query'],
            params: request.params as Record<string, string>,
            body: routeTakesBody(route) ? request.body : undefined,
            ip: request.ip,
            auth: admittedAuth.get(request),
          };
          return write(reply, await answerRoute(route, input));
        },
      });
    }
  };
}
