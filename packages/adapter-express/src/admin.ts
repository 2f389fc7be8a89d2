import { type AdminApiOptions, adminApi as createAdminApi } from '@jit-provision/core/admin';
import type { Router } from 'express';
import { router } from './routes';

export type { AdminApiOptions } from '@jit-provision/core/admin';

/**
 * The admin HTTP API as an Express router (see `adminApi` in `@jit-provision/core` and docs/admin-api.md):
 * users, invitations (one, bulk with progress, revoke, purge), outbox and the public invitation `peek`.
 * Every route but `peek` needs an admin's bearer token. `peek` limits per `req.ip`: behind a proxy, set
 * Express' `trust proxy` so that is the client's address.
 *
 * @example
 * ```ts
 * import { adminApi } from '@jit-provision/adapter-express';
 *
 * app.use('/admin/api', adminApi({ provisioner, invitations }));
 * ```
 */
export function adminApi(options: AdminApiOptions): Router {
  return router(createAdminApi(options).routes);
}
