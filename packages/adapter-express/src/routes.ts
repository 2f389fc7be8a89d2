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
import express, { type ErrorRequestHandler, type RequestHandler, type Response, type Router } from 'express';

/**
 * Write an already serialised answer. Express would otherwise let a throw here reject a promise nobody
 * handles, which ends the process; a connection we cannot answer is dropped instead.
 */
export function write(res: Response, out: SerializedRouteResponse): void {
  try {
    res.status(out.status).set(out.headers);
    if (out.body === undefined) res.end();
    else res.send(out.body);
  } catch {
    res.destroy();
  }
}

/** Answer `err` in the SDK's error shape (500 `server_error` for anything that is not ours). */
export const writeError = (res: Response, err: unknown): void =>
  write(res, serializeRouteResponse(toHttpResponse(err)));

const HAS_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Mount a core route table (e.g. `kratosWebhooks(...).routes`) as an Express router: each route's
 * `authorize` runs before its body is read, bodies are parsed as JSON within `maxBodyBytes`, and body
 * errors answer in the SDK's error shape instead of Express' HTML page. Every answer, including a handler
 * that throws or a body that cannot be serialised (500), goes through core's `answerRoute`.
 *
 * @example
 * ```ts
 * import { kratosWebhooks } from '@jit-provision/core/kratos';
 * import { router } from '@jit-provision/adapter-express';
 *
 * app.use('/kratos', router(kratosWebhooks(options).routes));
 * ```
 */
export function router(routes: readonly Route[]): Router {
  const mounted = express.Router();
  for (const route of routes) {
    const handlers: RequestHandler[] = [];
    const { authorize } = route;
    if (authorize !== undefined) {
      handlers.push((req, res, next) => {
        try {
          authorize(req.headers);
        } catch (err) {
          return writeError(res, err);
        }
        next();
      });
    }
    if (HAS_BODY.has(route.method))
      handlers.push(express.json({ limit: route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }));
    handlers.push((req, res) => {
      const request: RouteRequest = {
        headers: req.headers,
        query: req.query as RouteRequest['query'],
        params: req.params as Record<string, string>,
        body: req.body,
        ip: req.ip,
      };
      // answerRoute never rejects; the catch only guards against a bug turning into a process exit.
      answerRoute(route, request).then(
        (out) => write(res, out),
        (err: unknown) => writeError(res, err),
      );
    });
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    mounted[method](route.path, ...handlers);
  }
  const bodyErrors: ErrorRequestHandler = (err, _req, res, next) => {
    const out = bodyErrorResponse(err);
    if (out === undefined) return next(err);
    write(res, serializeRouteResponse(out));
  };
  mounted.use(bodyErrors);
  return mounted;
}
