import {
  answerRoute,
  bodyErrorResponse,
  DEFAULT_MAX_BODY_BYTES,
  type Route,
  type RouteRequest,
  type SerializedRouteResponse,
  serializeRouteResponse,
  toHttpResponse,
} from '@jit-provision/core/adapter';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

// The body is already JSON text (serialised by core, where a failure becomes a 500), so Fastify sends it as is.
const write = (reply: FastifyReply, out: SerializedRouteResponse) =>
  reply.code(out.status).headers(out.headers).send(out.body);

/**
 * Mount a core route table (e.g. `kratosWebhooks(...).routes`) as a Fastify plugin, under the prefix you
 * register it with: each route's `authorize` runs in `onRequest` (before the body is read), bodies are
 * limited to `maxBodyBytes`, and body errors answer in the SDK's error shape. Every answer, including a
 * handler that throws or a body that cannot be serialised (500), goes through core's `answerRoute`.
 * Encapsulated (not fastify-plugin wrapped) so its error handler and prefix stay its own.
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
    app.setErrorHandler((err, _request, reply) =>
      write(reply, serializeRouteResponse(bodyErrorResponse(err) ?? toHttpResponse(err))),
    );
    for (const route of routes) {
      const { authorize } = route;
      app.route({
        method: route.method,
        url: route.path,
        bodyLimit: route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        ...(authorize === undefined ? {} : { onRequest: async (request) => authorize(request.headers) }),
        handler: async (request, reply) => {
          const input: RouteRequest = {
            headers: request.headers,
            query: request.query as RouteRequest['query'],
            params: request.params as Record<string, string>,
            body: request.body,
            ip: request.ip,
          };
          return write(reply, await answerRoute(route, input));
        },
      });
    }
  };
}
