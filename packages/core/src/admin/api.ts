import type { Route, RouteAuthRequest, RouteResponse } from '../adapter';
import { ConfigurationError, ForbiddenError, NotFoundError, toHttpResponse } from '../errors';
import { positive } from '../internal';
import type { InvitationService } from '../invitations';
import type { Provisioner } from '../provisioning';
import type { OutboxStatus } from '../store';
import type { AuthResult } from '../types';
import { createBulkJobs } from './bulk';
import { type AdminAuth, type AdminContext, json, NO_STORE } from './context';
import { oneOf, positiveInteger, queryValue } from './fields';
import { type AssignableRoles, createGrantChecks } from './grants';
import { invitationRoutes } from './invitations';
import { createPeekLimiter, type PeekRateLimitOptions } from './peek-limit';
import { userRoutes } from './users';

/** Options of {@link adminApi}. */
export interface AdminApiOptions {
  provisioner: Provisioner;
  invitations: InvitationService;
  /**
   * Who may use the API (every route but `peek`), given the verified caller. Default: an active user with
   * role `admin`. A caller without a local user is always refused.
   */
  authorize?: (auth: AdminAuth) => boolean | Promise<boolean>;
  /**
   * Which roles the caller may give (`PATCH /users/:id`, `POST /users`, `POST /invitations`, bulk): `'*'` for
   * any, else a list; a request naming another role is 403 `forbidden` and changes nothing. Naming no role
   * (or `role: null`) gives the default and is not checked. Default: an active admin `'*'`, anyone else `[]` —
   * so a custom `authorize` that lets support staff in does not let them hand out `admin`.
   *
   * @example
   * ```ts
   * adminApi({
   *   provisioner,
   *   invitations,
   *   authorize: (auth) => auth.user.role === 'admin' || auth.user.role === 'support',
   *   assignableRoles: ({ user }) => (user.role === 'admin' ? '*' : ['user', 'editor']),
   * });
   * ```
   */
  assignableRoles?: (auth: AdminAuth) => AssignableRoles | Promise<AssignableRoles>;
  /** Most emails one `POST /invitations/bulk` takes; default 1,000. */
  maxBulk?: number;
  /**
   * Bulk delivery: invitations per second for all jobs together (default 10), at once per job (default 4), jobs
   * kept in memory (default 100).
   */
  bulk?: { perSecond?: number; concurrency?: number; maxJobs?: number };
  /**
   * `GET /invitations/peek` per client: a bucket of `burst` requests (default 10) refilled at `perSecond`
   * (default 0.5, i.e. 30 a minute), for `maxClients` clients at once (default 10,000); an IPv6 client is its
   * `ipv6Prefix` network (default /64). Behind them one `global` bucket for all clients (default burst 100,
   * 5 a second). `false` turns it off (e.g. when a gateway limits already).
   */
  peekRateLimit?: PeekRateLimitOptions | false;
}

/** The admin API's route table, for an adapter's route mounter (or each adapter's own `adminApi`). */
export interface AdminApi {
  routes: Route[];
}

const OUTBOX_STATUSES: readonly OutboxStatus[] = ['pending', 'done', 'failed'];

/** Largest body of every admin route but bulk: 16 KiB, far above the biggest (`POST /users`, about 1 KiB). */
const ADMIN_MAX_BODY_BYTES = 16_384;
/** Room per bulk entry: an escaped 320-character email, a 64-character role and the JSON around them. */
const BULK_BYTES_PER_ENTRY = 1_024;

/** The default `authorize`: an active user with role `admin`. */
const isActiveAdmin = (auth: AdminAuth) =>
  auth.user.role === 'admin' && (auth.user as { status?: unknown }).status !== 'disabled';

/** Answers get `no-store` too when they are errors. */
const withNoStore = (out: RouteResponse): RouteResponse => ({
  ...out,
  headers: { ...out.headers, ...NO_STORE },
});

/**
 * The admin HTTP API, framework-neutral: a route table each adapter mounts under a prefix of the app's
 * choice (`/admin/api` in the examples). Every route but `GET /invitations/peek` needs a bearer token the
 * provisioner verifies (401 otherwise, with `WWW-Authenticate`) and `authorize(auth)` (403 `forbidden`
 * otherwise), checked in the route's `authenticate` step, before the mounter reads the body. Only the
 * `Authorization` header is read, never a cookie, so there is no CSRF surface. Bodies are JSON
 * (`application/json`, UTF-8; 415 otherwise) of at most 16 KiB, `POST /invitations/bulk` 16 KiB plus 1 KiB
 * per `maxBulk` entry (413 over it); `peek` is `public`, so an app-wide `jitProvision` lets it through
 * without a token. Errors are the one error shape (`{ error, error_description }`, plus `field` for a 422).
 *
 * Routes: `GET /users?query&role&status&limit&cursor`, `GET /users/:id`, `POST /users`, `PATCH /users/:id`
 * (`{ role?, status? }`), `DELETE /users/:id`, `POST /users/:id/revoke-sessions` (409 `last_admin` where a
 * change would leave no active admin; every change's event names the calling admin as `actor`);
 * `GET /invitations?status`, `POST /invitations`,
 * `POST /invitations/bulk` (202 with a job id), `GET /invitations/bulk/:job`, `DELETE /invitations/:id?soft=true`,
 * `POST /invitations/purge`; `GET /outbox?status`, `POST /outbox/:id/retry`; public, rate-limited
 * `GET /invitations/peek?token=…`. See docs/admin-api.md.
 *
 * @example
 * ```ts
 * import { adminApi } from '@jit-provision/core/admin';
 * import { router } from '@jit-provision/adapter-express';
 *
 * app.use('/admin/api', router(adminApi({ provisioner, invitations }).routes));
 * // curl -X POST -H "Authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
 * //   -d '{"email":"ada@example.com","role":"editor"}' http://localhost:3000/admin/api/invitations
 * ```
 */
export function adminApi(options: AdminApiOptions): AdminApi {
  const { provisioner, invitations } = options;
  if (typeof provisioner?.authenticate !== 'function')
    throw new ConfigurationError('adminApi needs a provisioner');
  if (typeof invitations?.createMany !== 'function')
    throw new ConfigurationError('adminApi needs an invitation service');
  const authorize = options.authorize ?? isActiveAdmin;
  const maxBulk = Math.floor(positive(options.maxBulk, 1_000, 'maxBulk'));
  const bulk = options.bulk ?? {};
  const jobs = createBulkJobs({
    invitations,
    perSecond: positive(bulk.perSecond, 10, 'bulk.perSecond'),
    concurrency: Math.floor(positive(bulk.concurrency, 4, 'bulk.concurrency')),
    maxJobs: Math.floor(positive(bulk.maxJobs, 100, 'bulk.maxJobs')),
  });
  const peekLimiter = createPeekLimiter(options.peekRateLimit);
  const grants = createGrantChecks({ provisioner, authorize, assignableRoles: options.assignableRoles });

  const open: AdminContext['open'] = (run) => async (request) => {
    try {
      return await run(request);
    } catch (err) {
      return withNoStore(toHttpResponse(err));
    }
  };
  // One fresh object per admitted request, known only here: a `request.auth` that is not one (a mounter that
  // skipped `authenticate`, or set it from elsewhere, even to a cached AuthResult) is never trusted, and the
  // guard authenticates again.
  const admitted = new WeakSet<object>();
  const authenticateAdmin = async ({ headers }: RouteAuthRequest): Promise<{ admin: AdminAuth }> => {
    const auth: AuthResult = await provisioner.authenticate({ headers });
    // A machine client has no row and no role: the admin API is for people, whatever `authorize` would say.
    if (auth.kind !== 'user' || auth.user === null || !(await authorize(auth as AdminAuth)))
      throw new ForbiddenError('This account may not use the admin API');
    const admission = { admin: auth as AdminAuth };
    admitted.add(admission);
    return admission;
  };
  const ctx: AdminContext = {
    provisioner,
    invitations,
    ...grants,
    open,
    guard: (run) =>
      open(async (request) => {
        const { auth } = request;
        const admission =
          typeof auth === 'object' && auth !== null && admitted.has(auth)
            ? (auth as { admin: AdminAuth })
            : await authenticateAdmin(request);
        return run(request, admission.admin);
      }),
  };

  const outboxRoutes: Route[] = [
    {
      method: 'GET',
      path: '/outbox',
      handler: ctx.guard(async ({ query }) => {
        const status = oneOf(queryValue(query, 'status'), OUTBOX_STATUSES, 'status');
        const max = positiveInteger(queryValue(query, 'limit'), 'limit', 1_000);
        const { outbox } = invitations.store;
        const events =
          outbox === undefined
            ? []
            : await outbox.list({
                ...(status === undefined ? {} : { status }),
                ...(max === undefined ? {} : { limit: max }),
              });
        return json(200, { events });
      }),
    },
    {
      method: 'POST',
      path: '/outbox/:id/retry',
      handler: ctx.guard(async ({ params }) => {
        const id = params['id'] ?? '';
        const outbox = invitations.store.outbox;
        if (outbox?.retry === undefined || !(await outbox.retry(id)))
          throw new NotFoundError('No such outbox event');
        return json(200, { id, status: 'pending' });
      }),
    },
  ];

  // Every route but peek verifies its caller (401/403) before the mounter reads a byte of the body, and
  // takes a body sized for it: a caller without credentials costs no read, parse or walk.
  const bulkBytes = ADMIN_MAX_BODY_BYTES + maxBulk * BULK_BYTES_PER_ENTRY;
  const routes = [
    ...userRoutes(ctx),
    ...invitationRoutes(ctx, { jobs, maxBulk, peekLimiter }),
    ...outboxRoutes,
  ].map((route): Route => {
    if (route.path === '/invitations/peek')
      return { ...route, public: true, headers: NO_STORE, maxBodyBytes: ADMIN_MAX_BODY_BYTES };
    const bulk = route.method === 'POST' && route.path === '/invitations/bulk';
    return {
      ...route,
      authenticate: authenticateAdmin,
      headers: NO_STORE,
      maxBodyBytes: bulk ? bulkBytes : ADMIN_MAX_BODY_BYTES,
      // An entry is an object and two strings; the rest is the envelope.
      ...(bulk ? { maxBodyNodes: maxBulk * 4 + 64 } : {}),
    };
  });
  return { routes };
}
