import {
  kratosWebhooks as createKratosWebhooks,
  type KratosWebhooksOptions,
} from '@jit-provision/core/kratos';
import type { Router } from 'express';
import { router } from './routes';

export type { KratosWebhooksOptions } from '@jit-provision/core/kratos';

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
  return router(createKratosWebhooks(options).routes);
}
