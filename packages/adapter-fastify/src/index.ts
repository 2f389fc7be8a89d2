import { type AuthResult, ConfigurationError, type Provisioner } from '@jit-provision/core';
import {
  authenticateCachedRequest,
  authenticateRequest,
  type JitProvisionOptions,
  nodeAdapterRequest,
} from '@jit-provision/core/adapter';
import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { tableRouteOf } from './table-route';

export type { AuthResult } from '@jit-provision/core';
export type { ClaimsPredicate, GuardMatchOptions, JitProvisionOptions } from '@jit-provision/core/adapter';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by jit-provision: the verified caller and their local user; null when skipped or anonymous. */
    auth: AuthResult | null;
  }
  interface FastifyInstance {
    /** The authentication hook, for `onRequest` on single routes or scopes (with `global: false`). */
    jitProvision: onRequestHookHandler;
  }
}

/** Options of the Fastify {@link jitProvision} plugin. */
export interface FastifyJitProvisionOptions extends JitProvisionOptions {
  provisioner: Provisioner;
  /** Default true: authenticate every request. false: only routes that use `fastify.jitProvision` as `onRequest`. */
  global?: boolean;
}

/**
 * The `onRequest` hook behind the plugin, for apps that wire hooks themselves.
 *
 * @example
 * ```ts
 * app.get('/me', { onRequest: createJitProvisionHook(provisioner) }, async (request) => request.auth?.user);
 * ```
 */
export function createJitProvisionHook(
  provisioner: Provisioner,
  options: JitProvisionOptions = {},
): onRequestHookHandler {
  // Callback style, not `async`: a cached token and user continue with `done()` in this tick, no promise.
  return function jitProvisionHook(request, reply, done) {
    const input = nodeAdapterRequest(request.raw, request.url, options);
    // Fastify has routed already: a route table's public route (the invitation `peek`) needs no token.
    if (tableRouteOf(request)?.public === true) input.public = true;
    const now = authenticateCachedRequest(provisioner, input, options);
    if (now?.ok) {
      request.auth = now.auth;
      return done();
    }
    authenticateRequest(provisioner, input, options)
      .then(
        (outcome) => {
          if (outcome.ok) {
            request.auth = outcome.auth;
            return done();
          }
          const { status, headers, body } = outcome.response;
          // Sending ends the request; `done()` after it would run the route as well.
          reply.code(status).headers(headers).send(body);
        },
        (err: unknown) => done(err as Error),
      )
      // Nothing above should throw; if it ever does, hand it to Fastify's error handler, not an unhandled rejection.
      .catch((err: unknown) => {
        if (!reply.sent) reply.send(err);
      });
  };
}

const plugin: FastifyPluginAsync<FastifyJitProvisionOptions> = async (fastify, opts) => {
  const { provisioner, global = true, ...options } = opts;
  if (typeof provisioner?.authenticate !== 'function') {
    throw new ConfigurationError('register(jitProvision, { provisioner }) needs a provisioner');
  }
  const hook = createJitProvisionHook(provisioner, options);
  fastify.decorateRequest('auth', null);
  fastify.decorate('jitProvision', hook);
  if (global) fastify.addHook('onRequest', hook);
};

/**
 * Fastify 5 plugin: verifies the bearer token, makes sure the local user exists, and sets
 * `request.auth = { user, identity, claims, created }`. Failures are answered as JSON with the right
 * status and `WWW-Authenticate`/`Retry-After` headers. A route of a mounted route table that is `public`
 * (the admin API's invitation `peek`) passes without a token whatever the registration order; a token it
 * does carry is still verified. `skip` gets the decoded path Fastify routes on (`/%61pi/x` as `/api/x`).
 *
 * @example
 * ```ts
 * import { jitProvision } from '@jit-provision/adapter-fastify';
 *
 * await app.register(jitProvision, { provisioner, skip: (path) => path === '/health' });
 * app.get('/me', async (request) => request.auth?.user);
 * ```
 */
export const jitProvision = fp(plugin, { fastify: '5.x', name: '@jit-provision/adapter-fastify' });
export { type AdminApiOptions, adminApi } from './admin';
export { requireClaims, requirePermissions, requireRole, requireScopes, requireUser } from './guards';
export { kratosWebhooks } from './kratos';
export { routesPlugin } from './routes';
