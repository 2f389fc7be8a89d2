import {
  kratosWebhooks as createKratosHandlers,
  type HttpResponse,
  InvalidRequestError,
  isJitProvisionError,
  KRATOS_MAX_BODY_BYTES,
  type KratosWebhookHandler,
  type KratosWebhookResponse,
  type KratosWebhooksOptions,
  PayloadTooLargeError,
  toHttpResponse,
} from '@jit-provision/core';
import express, { type ErrorRequestHandler, type RequestHandler, type Response, type Router } from 'express';

export type { KratosWebhooksOptions } from '@jit-provision/core';

const send = (res: Response, out: KratosWebhookResponse | HttpResponse) => {
  res.status(out.status).set(out.headers).json(out.body);
};

/**
 * The Kratos webhooks as an Express router: POST `/check-invitation`, `/consume-invitation` and
 * `/provision-identity`. The API key is checked before the body is read; bodies over 1 MiB get 413.
 *
 * @example
 * ```ts
 * import { kratosWebhooks } from '@jit-provision/adapter-express';
 *
 * app.use('/kratos', kratosWebhooks({ invitations, provisioner, apiKey: process.env.KRATOS_WEBHOOK_KEY!, issuer: 'https://auth.example.com' }));
 * ```
 */
export function kratosWebhooks(options: KratosWebhooksOptions): Router {
  const hooks = createKratosHandlers(options);
  const router = express.Router();
  const authorize: RequestHandler = (req, res, next) => {
    try {
      hooks.authorize(req.headers);
      next();
    } catch (err) {
      send(res, toHttpResponse(err));
    }
  };
  const parse = express.json({ limit: KRATOS_MAX_BODY_BYTES });
  const route =
    (handler: KratosWebhookHandler): RequestHandler =>
    (req, res, next) => {
      handler({ headers: req.headers, body: req.body }).then((out) => send(res, out), next);
    };
  router.post('/check-invitation', authorize, parse, route(hooks.checkInvitation));
  router.post('/consume-invitation', authorize, parse, route(hooks.consumeInvitation));
  router.post('/provision-identity', authorize, parse, route(hooks.provisionIdentity));

  // body-parser errors carry an HTTP status: answer them in the SDK's shape instead of Express' HTML page.
  const parseErrors: ErrorRequestHandler = (err, _req, res, next) => {
    const status = (err as { status?: unknown }).status;
    if (isJitProvisionError(err)) return send(res, toHttpResponse(err));
    if (status === 413) return send(res, toHttpResponse(new PayloadTooLargeError()));
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return send(res, toHttpResponse(new InvalidRequestError('body must be a JSON object')));
    }
    next(err);
  };
  router.use(parseErrors);
  return router;
}
