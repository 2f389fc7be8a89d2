import {
  kratosWebhooks as createKratosWebhooks,
  type KratosWebhooksOptions,
} from '@jit-provision/core/kratos';
import type { Hono } from 'hono';
import { subApp } from './routes';

export type { KratosWebhooksOptions } from '@jit-provision/core/kratos';

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
  return subApp(createKratosWebhooks(options).routes);
}
