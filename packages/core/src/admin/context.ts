import type { Route, RouteRequest, RouteResponse } from '../adapter';
import type { InvitationService } from '../invitations';
import type { Provisioner } from '../provisioning';
import type { UserAuthResult, UserRecord } from '../types';

/** An authenticated admin request: always a person with a local user here, never a machine client. */
export type AdminAuth = UserAuthResult & { user: UserRecord };

/** A route body that runs only after authentication and `authorize`. */
export type AdminRun = (request: RouteRequest, auth: AdminAuth) => Promise<RouteResponse>;

/** What the admin route groups share. */
export interface AdminContext {
  provisioner: Provisioner;
  invitations: InvitationService;
  /**
   * Wrap a route body: 401/403 first, every error in the one error shape. The caller is the one the route's
   * `authenticate` step admitted before the body was read (`adminApi` gives every guarded route that step);
   * without it, the guard authenticates here.
   */
  guard(run: AdminRun): Route['handler'];
  /** Wrap a public route body: errors in the one error shape. */
  open(run: (request: RouteRequest) => Promise<RouteResponse>): Route['handler'];
  /**
   * 403 `forbidden` unless `auth` may give every role named in `roles` (`assignableRoles`). Absent roles
   * (`undefined`, `null`: the default applies) and values that are no role name (refused by the route's own
   * validation) are not grants and pass.
   */
  mayAssign(auth: AdminAuth, roles: readonly unknown[]): Promise<void>;
  /**
   * The acting admin as the store has them now: 403 `forbidden` unless they still exist, are active, have not
   * been signed out since their token was issued, and `authorize` still admits them. Run where a change is
   * applied, so a request that waited (in the admin change queue) is judged at the moment it lands.
   */
  recheck(auth: AdminAuth): Promise<AdminAuth>;
}

/** Admin answers are per-user and may name people: never cached by a browser or a proxy. */
export const NO_STORE = { 'cache-control': 'no-store' } as const;
const JSON_HEADERS = { 'content-type': 'application/json', ...NO_STORE };

/** A JSON answer. */
export const json = (status: number, body: unknown): RouteResponse => ({
  status,
  headers: JSON_HEADERS,
  body,
});

/** An answer without a body. */
export const noContent = (): RouteResponse => ({ status: 204, headers: { ...NO_STORE } });
