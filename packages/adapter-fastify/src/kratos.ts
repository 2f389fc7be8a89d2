import {
  kratosWebhooks as createKratosHandlers,
  InvalidRequestError,
  isJitProvisionError,
  KRATOS_MAX_BODY_BYTES,
  type KratosWebhookHandler,
  type KratosWebhookResponse,
  type KratosWebhooksOptions,
  PayloadTooLargeError,
  toHttpResponse,
} from '@jit-provision/core';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

export type { KratosWebhooksOptions } from '@jit-provision/core';

const send = (reply: FastifyReply, out: Omit<KratosWebhookResponse, 'body'> & { body: unknown }) =>
  reply.code(out.status).headers(out.headers).send(out.body);

/**
 * The Kratos webhooks as a Fastify plugin: POST `/check-invitation`, `/consume-invitation` and
 * `/provision-identity` under the prefix you register it with. The API key is checked in `onRequest`,
 * before the body is read; bodies over 1 MiB get 413. Encapsulated (not fastify-plugin wrapped) so its
 * error handler and prefix stay its own.
 *
 * @example
 * ```ts
 * import { kratosWebhooks } from '@jit-provision/adapter-fastify';
 *
 * await app.register(kratosWebhooks({ invitations, provisioner, apiKey: process.env.KRATOS_WEBHOOK_KEY!, issuer: 'https://auth.example.com' }), { prefix: '/kratos' });
 * ```
 */
export function kratosWebhooks(options: KratosWebhooksOptions): FastifyPluginAsync {
  const hooks = createKratosHandlers(options);
  return async function jitProvisionKratosWebhooks(app) {
    app.setErrorHandler((err, _request, reply) => {
      const status = (err as { statusCode?: unknown }).statusCode;
      let mapped: unknown = err;
      if (isJitProvisionError(err)) mapped = err;
      else if (status === 413) mapped = new PayloadTooLargeError();
      else if (typeof status === 'number' && status >= 400 && status < 500) {
        mapped = new InvalidRequestError('body must be a JSON object');
      }
      return send(reply, toHttpResponse(mapped));
    });
    const route = (path: string, handler: KratosWebhookHandler) =>
      app.post(
        path,
        { bodyLimit: KRATOS_MAX_BODY_BYTES, onRequest: async (request) => hooks.authorize(request.headers) },
        async (request, reply) =>
          send(reply, await handler({ headers: request.headers, body: request.body })),
      );
    route('/check-invitation', hooks.checkInvitation);
    route('/consume-invitation', hooks.consumeInvitation);
    route('/provision-identity', hooks.provisionIdentity);
  };
}
