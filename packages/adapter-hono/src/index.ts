import {
  type AuthResult,
  authenticateRequest,
  type JitProvisionOptions,
  type Provisioner,
} from '@jit-provision/core';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';

export type { AuthResult, JitProvisionOptions } from '@jit-provision/core';

/** Context variables set by {@link jitProvision}: `auth` is null when skipped or anonymous. */
export type AuthVariables = { auth: AuthResult | null };

declare module 'hono' {
  interface ContextVariableMap extends AuthVariables {}
}

/**
 * Hono middleware: verifies the bearer token, makes sure the local user exists, and sets
 * `c.get('auth')` to `{ user, identity, claims, created }`. Failures throw an `HTTPException` carrying
 * a ready JSON `Response` (status, `WWW-Authenticate`/`Retry-After` headers).
 *
 * @example
 * ```ts
 * import { jitProvision } from '@jit-provision/adapter-hono';
 *
 * const app = new Hono();
 * app.use('*', jitProvision(provisioner));
 * app.get('/me', (c) => c.json(c.get('auth')?.user));
 * ```
 */
export function jitProvision(
  provisioner: Provisioner,
  options: JitProvisionOptions = {},
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const path = new URL(c.req.url).pathname;
    const outcome = await authenticateRequest(
      provisioner,
      { headers: c.req.raw.headers, path, method: c.req.method },
      options,
    );
    if (!outcome.ok) {
      const { status, headers, body } = outcome.response;
      const res = new Response(JSON.stringify(body), { status, headers });
      throw new HTTPException(status as 401, { res, cause: outcome.error });
    }
    c.set('auth', outcome.auth);
    await next();
  };
}
export { kratosWebhooks } from './kratos';
