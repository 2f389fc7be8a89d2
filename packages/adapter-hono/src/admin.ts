import { type AdminApiOptions, adminApi as createAdminApi } from '@jit-provision/core/admin';
import type { Hono } from 'hono';
import { type SubAppOptions, subApp } from './routes';

export type { AdminApiOptions } from '@jit-provision/core/admin';

/**
 * The admin HTTP API as a Hono sub-app; mount it with `app.route(prefix, ...)` (see `adminApi` in
 * `@jit-provision/core` and docs/admin-api.md). Every route but `peek` needs an admin's bearer token. `peek`
 * limits per client address, which it reads through the runtime's own API: the Node socket under
 * `@hono/node-server`, Bun's `server.requestIP`, Deno's `remoteAddr`, Cloudflare's `cf-connecting-ip` on
 * workerd, or the `getConnInfo` you pass (`hono/bun`, `hono/deno`, ...). Where none answers (another
 * runtime) every client shares one bucket: limit at the edge there (or pass `peekRateLimit: false`).
 *
 * @example
 * ```ts
 * import { adminApi } from '@jit-provision/adapter-hono';
 *
 * app.route('/admin/api', adminApi({ provisioner, invitations }));
 * ```
 */
export function adminApi(options: AdminApiOptions & SubAppOptions): Hono {
  const { getConnInfo, ...admin } = options;
  return subApp(createAdminApi(admin).routes, getConnInfo === undefined ? {} : { getConnInfo });
}
