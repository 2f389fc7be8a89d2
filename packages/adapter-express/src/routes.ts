import {
  bodyErrorResponse,
  DEFAULT_MAX_BODY_BYTES,
  type Route,
  type RouteRequest,
  type RouteResponse,
  toHttpResponse,
} from '@jit-provision/core/adapter';
import express, { type ErrorRequestHandler, type RequestHandler, type Response, type Router } from 'express';

const send = (res: Response, out: RouteResponse) => {
  res.status(out.status);
  if (out.headers !== undefined) res.set(out.headers);
  if (out.body === undefined) res.end();
  else res.json(out.body);
};

const HAS_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Mount a core route table (e.g. `kratosWebhooks(...).routes`) as an Express router: each route's
 * `authorize` runs before its body is read, bodies are parsed as JSON within `maxBodyBytes`, and body
 * errors answer in the SDK's error shape instead of Express' HTML page.
 *
 * @example
 * ```ts
 * import { router } from '@jit-provision/adapter-express';
 *
 * app.use('/kratos', router(kratosWebhooksCore(options).routes));
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
          next();
        } catch (err) {
          send(res, toHttpResponse(err));
        }
      });
    }
    if (HAS_BODY.has(route.method))
      handlers.push(express.json({ limit: route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }));
    handlers.push((req, res, next) => {
      const request: RouteRequest = {
        headers: req.headers,
        query: req.query as RouteRequest['query'],
        params: req.params as Record<string, string>,
        body: req.body,
        ip: req.ip,
      };
      route.handler(request).then((out) => send(res, out), next);
    });
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    mounted[method](route.path, ...handlers);
  }
  const bodyErrors: ErrorRequestHandler = (err, _req, res, next) => {
    const out = bodyErrorResponse(err);
    if (out === undefined) return next(err);
    send(res, out);
  };
  mounted.use(bodyErrors);
  return mounted;
}
