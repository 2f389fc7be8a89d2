import { ConfigurationError, ForbiddenError } from '../errors';
import { isRole } from '../identity';
import { signedOutSince } from '../lifecycle';
import type { Provisioner } from '../provisioning';

import type { AdminAuth, AdminContext } from './context';
import { isActiveAdmin } from './last-admin';

/** What `assignableRoles` answers: every role (`'*'`), or these roles. */
export type AssignableRoles = readonly string[] | '*';

/** Options of {@link createGrantChecks}: `adminApi`'s resolved `authorize` and `assignableRoles`. */
export interface GrantCheckOptions {
  provisioner: Provisioner;
  authorize: (auth: AdminAuth) => boolean | Promise<boolean>;
  assignableRoles?: ((auth: AdminAuth) => AssignableRoles | Promise<AssignableRoles>) | undefined;
}

/** The checks a route makes on the acting admin beyond `authorize` (documented on `AdminContext`). */
export type GrantChecks = Pick<AdminContext, 'mayAssign' | 'recheck'>;

/** The default `assignableRoles`: an active admin may give any role, anyone else none. */
const defaultAssignable = (auth: AdminAuth): AssignableRoles => (isActiveAdmin(auth.user) ? '*' : []);

/**
 * The grant checks of the admin API: `mayAssign` (who may give which role, from `assignableRoles`) and
 * `recheck` (the acting admin re-read and re-authorised where the change lands).
 *
 * @example
 * ```ts
 * const { mayAssign, recheck } = createGrantChecks({ provisioner, authorize: (a) => a.user.role === 'admin' });
 * const actor = await recheck(auth);       // 403 if demoted, disabled, deleted or signed out meanwhile
 * await mayAssign(actor, [body.role]);     // 403 unless actor may give that role
 * ```
 */
export function createGrantChecks(options: GrantCheckOptions): GrantChecks {
  const { provisioner, authorize } = options;
  const assignable = options.assignableRoles ?? defaultAssignable;
  if (typeof assignable !== 'function')
    throw new ConfigurationError('adminApi: assignableRoles must be a function');
  return {
    async mayAssign(auth, roles) {
      const named = roles.filter((role): role is string => isRole(role));
      if (named.length === 0) return;
      const allowed = await assignable(auth);
      if (allowed === '*') return;
      if (!Array.isArray(allowed))
        throw new ConfigurationError("adminApi: assignableRoles must answer a list of roles or '*'");
      const refused = named.find((role) => !allowed.includes(role));
      if (refused !== undefined) throw new ForbiddenError('This account may not give that role');
    },
    async recheck(auth) {
      const user = await provisioner.getUser(auth.user.id);
      const status = (user as { status?: unknown } | null)?.status;
      if (
        user === null ||
        (status !== undefined && status !== 'active') ||
        signedOutSince(user, typeof auth.claims.iat === 'number' ? auth.claims.iat * 1000 : undefined)
      )
        throw new ForbiddenError('This account may no longer use the admin API');
      const fresh: AdminAuth = { ...auth, user };
      if (!(await authorize(fresh))) throw new ForbiddenError('This account may no longer use the admin API');
      return fresh;
    },
  };
}
