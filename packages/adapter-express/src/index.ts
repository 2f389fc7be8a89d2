import type { AuthResult, Provisioner } from '@jit-provision/core';
import {
  authenticateCachedRequest,
  authenticateRequest,
  type JitProvisionOptions,
  nodeAdapterRequest,
  serializeRouteResponse,
} from '@jit-provision/core/adapter';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { write, writeError } from './routes';

export type { AuthResult } from '@jit-provision/core';
export type { ClaimsPredicate, GuardMatchOptions, JitProvisionOptions } from '@jit-provision/core/adapter';

declare global {
  namespace Express {
    interface Request {
      /** Set by `jitProvision`: the verified caller and their local user. Absent when skipped or anonymous. */
      auth?: AuthResult;
    }
  }
}

/** Options of the Express {@link jitProvision} middleware. */
export interface ExpressJitProvisionOptions extends JitProvisionOptions {
  /** Hand failures to Express error handlers with `next(err)` instead of answering them here. */
  passErrors?: boolean;
}

/**
 * Express 4/5 middleware: verifies the bearer token, makes sure the local user exists, and sets
 * `req.auth = { user, identity, claims, created }`. Failures are answered as JSON with the right status
 * and `WWW-Authenticate`/`Retry-After` headers (or passed on with `passErrors`). `skip` gets the path
 * without its query string, percent-decoded (`/%61pi/x` as `/api/x`). Express runs middleware before it
 * routes, so this cannot see that a later route needs no token: mount route tables with a public route
 * (the admin API's invitation `peek`) before this middleware; they authenticate their own callers.
 *
 * @example
 * ```ts
 * import { jitProvision } from '@jit-provision/adapter-express';
 *
 * app.use(jitProvision(provisioner, { skip: (path) => path === '/health' }));
 * app.get('/me', (req, res) => res.json(req.auth?.user));
 * ```
 */
export function jitProvision(
  provisioner: Provisioner,
  options: ExpressJitProvisionOptions = {},
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const request = nodeAdapterRequest(req, req.originalUrl ?? req.url, options);
    // A cached token and user: continue in this tick, without a promise.
    const now = authenticateCachedRequest(provisioner, request, options);
    if (now?.ok) {
      if (now.auth !== null) req.auth = now.auth;
      return next();
    }
    authenticateRequest(provisioner, request, options)
      .then((outcome) => {
        if (outcome.ok) {
          if (outcome.auth !== null) req.auth = outcome.auth;
          return next();
        }
        if (options.passErrors) return next(outcome.error);
        write(res, serializeRouteResponse(outcome.response));
      }, next)
      // Nothing above should throw; if it ever does, answer 500 instead of an unhandled rejection (process exit).
      .catch((err: unknown) => (res.headersSent ? res.destroy() : writeError(res, err)));
  };
}
export { type AdminApiOptions, adminApi } from './admin';
export { requireClaims, requirePermissions, requireRole, requireScopes, requireUser } from './guards';
export { kratosWebhooks } from './kratos';
export { router } from './routes';
