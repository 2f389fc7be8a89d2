import { type AdminApiOptions, adminApi as createAdminApi } from '@jit-provision/core/admin';
import type { FastifyPluginAsync } from 'fastify';
import { routesPlugin } from './routes';

export type { AdminApiOptions } from '@jit-provision/core/admin';

/**
 * The admin HTTP API as a Fastify plugin under the prefix you register it with (see `adminApi` in
 * `@jit-provision/core` and docs/admin-api.md). Every route but `peek` needs an admin's bearer token. `peek`
 * limits per `request.ip`: behind a proxy, set Fastify's `trustProxy`. Fastify's request log records URLs,
 * and the `peek` URL carries an invitation token: keep request logging off or redact `token` there.
 *
 * @example
 * ```ts
 * import { adminApi } from '@jit-provision/adapter-fastify';
 *
 * await app.register(adminApi({ provisioner, invitations }), { prefix: '/admin/api' });
 * ```
 */
export function adminApi(options: AdminApiOptions): FastifyPluginAsync {
  return routesPlugin(createAdminApi(options).routes);
}
