import { type AdminApiOptions, adminApi as createAdminApi } from '@jit-provision/core/admin';
import type { Hono } from 'hono';
import { subApp } from './routes';

export type { AdminApiOptions } from '@jit-provision/core/admin';

/**
 * The admin HTTP API as a Hono sub-app; mount it with `app.route(prefix, ...)` (see `adminApi` in
 * `@jit-provision/core` and docs/admin-api.md). Every route but `peek` needs an admin's bearer token. `peek`
 * limits per client address, which it reads from the Node socket under `@hono/node-server`; on other
 * runtimes every client shares one bucket, so limit at the edge there (or pass `peekRateLimit: false`).
 *
 * @example
 * ```ts
 * import { adminApi } from '@jit-provision/adapter-hono';
 *
 * app.route('/admin/api', adminApi({ provisioner, invitations }));
 * ```
 */
export function adminApi(options: AdminApiOptions): Hono {
  return subApp(createAdminApi(options).routes);
}
