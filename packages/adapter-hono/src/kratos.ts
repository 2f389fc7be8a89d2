import {
  kratosWebhooks as createKratosHandlers,
  type HttpResponse,
  KRATOS_MAX_BODY_BYTES,
  type KratosWebhookHandler,
  type KratosWebhookResponse,
  type KratosWebhooksOptions,
  PayloadTooLargeError,
  toHttpResponse,
} from '@jit-provision/core';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

export type { KratosWebhooksOptions } from '@jit-provision/core';

const respond = (out: KratosWebhookResponse | HttpResponse) =>
  new Response(JSON.stringify(out.body), { status: out.status, headers: out.headers });

/**
 * The Kratos webhooks as a Hono sub-app: POST `/check-invitation`, `/consume-invitation` and
 * `/provision-identity`; mount it with `app.route(prefix, ...)`. The API key is checked before the body
 * is read; bodies over 1 MiB get 413 while streaming.
 *
 * @example
 * ```ts
 * import { kratosWebhooks } from '@jit-provision/adapter-hono';
 *
 * app.route('/kratos', kratosWebhooks({ invitations, provisioner, apiKey: process.env.KRATOS_WEBHOOK_KEY!, issuer: 'https://auth.example.com' }));
 * ```
 */
export function kratosWebhooks(options: KratosWebhooksOptions): Hono {
  const hooks = createKratosHandlers(options);
  const app = new Hono();
  const authorize: MiddlewareHandler = async (c, next) => {
    try {
      hooks.authorize(c.req.raw.headers);
    } catch (err) {
      return respond(toHttpResponse(err));
    }
    return next();
  };
  const limit = bodyLimit({
    maxSize: KRATOS_MAX_BODY_BYTES,
    onError: () => respond(toHttpResponse(new PayloadTooLargeError())),
  });
  // The raw text goes to the core, which parses it (400 on bad JSON) and re-checks its size.
  const route = (handler: KratosWebhookHandler) => async (c: Context) =>
    respond(await handler({ headers: c.req.raw.headers, body: await c.req.text() }));
  app.post('/check-invitation', authorize, limit, route(hooks.checkInvitation));
  app.post('/consume-invitation', authorize, limit, route(hooks.consumeInvitation));
  app.post('/provision-identity', authorize, limit, route(hooks.provisionIdentity));
  return app;
}
