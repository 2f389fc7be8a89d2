import {
  kratosWebhooks as createKratosWebhooks,
  type KratosWebhooksOptions,
} from '@jit-provision/core/kratos';
import type { FastifyPluginAsync } from 'fastify';
import { routesPlugin } from './routes';

export type { KratosWebhooksOptions } from '@jit-provision/core/kratos';

/**
 * The Kratos webhooks as a Fastify plugin: POST `/check-invitation`, `/consume-invitation` and
 * `/provision-identity` under the prefix you register it with. The API key is checked in `onRequest`,
 * before the body is read; bodies over 1 MiB get 413.
 *
 * @example
 * ```ts
 * import { kratosWebhooks } from '@jit-provision/adapter-fastify';
 *
 * await app.register(kratosWebhooks({ invitations, provisioner, apiKey: process.env.KRATOS_WEBHOOK_KEY!, issuer: 'https://auth.example.com' }), { prefix: '/kratos' });
 * ```
 */
export function kratosWebhooks(options: KratosWebhooksOptions): FastifyPluginAsync {
  return routesPlugin(createKratosWebhooks(options).routes);
}
