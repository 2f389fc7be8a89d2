import {
  admitRoute,
  answerRoute,
  bodyErrorResponse,
  DEFAULT_MAX_BODY_BYTES,
  declaresBody,
  parseFormBody,
  type Route,
  type RouteRequest,
  routeTakesBody,
  type SerializedRouteResponse,
  serializeRouteResponse,
  toHttpResponse,
  unmatchedRouteResponse,
} from '@jit-provision/core/adapter';
import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';

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

// What each request's `authenticate` step returned, from the step to the handler; gone with the request.
const admittedAuth = new WeakMap<Request, unknown>();

/**
 * Mount a core route table (e.g. `kratosWebhooks(...).routes`) as an Express router: each route's
 * `authorize` and `authenticate` run before its body is read (a refused caller costs no read or parse), a
 * body must be `application/json` (or `+json`, UTF-8; a `bodyType: 'form'` route: a UTF-8 form; else 415), bodies are parsed within `maxBodyBytes`,
 * and body errors answer in the SDK's error shape instead of Express' HTML page. A request under the mount
 * path that matches no route gets 404 `not_found` in that shape too (so mount a table under its own prefix;
 * a later app route under that prefix is never reached). Every answer, including a handler that throws or
 * a body that cannot be serialised (500), goes through core's `answerRoute`.
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
    const handlers: RequestHandler[] = [
      (req, res, next) => {
        admitRoute(route, req.headers).then((admitted) => {
          if (!admitted.ok) return write(res, admitted.response);
          if (admitted.auth !== undefined) admittedAuth.set(req, admitted.auth);
          next();
        }, next);
      },
    ];
    const takesBody = routeTakesBody(route);
    // The media type is checked already (415 otherwise): parse whatever type arrives here. body-parser
    // would answer `{}` for an empty body; core's rule says there is none.
    const hasBody = (req: Request) => takesBody && declaresBody(req.headers);
    const form = route.bodyType === 'form';
    if (takesBody) {
      const limit = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
      // A form is read as text and parsed by core, so every mounter reads it alike.
      const parse = form
        ? express.text({ limit, type: () => true })
        : express.json({ limit, type: () => true });
      handlers.push((req, res, next) => (hasBody(req) ? parse(req, res, next) : next()));
    }
    handlers.push((req, res) => {
      const request: RouteRequest = {
        headers: req.headers,
        query: req.query as RouteRequest['query'],
        params: req.params as Record<string, string>,
        body: !hasBody(req) ? undefined : form ? parseFormBody(String(req.body)) : req.body,
        ip: req.ip,
        auth: admittedAuth.get(req),
      };
      // answerRoute never rejects; the catch only guards against a bug turning into a process exit.
      answerRoute(route, request).then(
        (out) => write(res, out),
        (err: unknown) => writeError(res, err),
      );
    });
    const bodyErrors: ErrorRequestHandler = (err, _req, res, next) => {
      const out = bodyErrorResponse(err, route);
      if (out === undefined) return next(err);
      write(res, serializeRouteResponse(out));
    };
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    mounted[method](route.path, ...handlers, bodyErrors);
  }
  // Under its own prefix the table answers what it does not know; mounted at the root it lets the app go on.
  mounted.use((req, res, next) => (req.baseUrl === '' ? next() : write(res, unmatchedRouteResponse())));
  return mounted;
}
