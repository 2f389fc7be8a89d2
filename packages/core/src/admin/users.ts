import type { Route } from '../adapter';
import { InvalidFieldError, UserNotFoundError } from '../errors';
import { LIST_LIMITS } from '../lifecycle';
import type { ListUsersQuery } from '../provisioning';
import type { UserStatus } from '../types';
import { type AdminContext, json, noContent } from './context';
import { asFieldErrors, bodyObject, oneOf, positiveInteger, queryValue, roleField } from './fields';
import { changeUserKeepingAdmin } from './last-admin';

const STATUSES: readonly UserStatus[] = ['active', 'disabled'];
const PATCH_FIELDS = new Set(['role', 'status']);

/** An optional text field of a pre-provisioned user: type-checked here, its length by the identity rules. */
function optionalText(body: Record<string, unknown>, key: 'email' | 'name'): { [k: string]: string } {
  const value = body[key];
  if (value === undefined) return {};
  if (typeof value !== 'string') throw new InvalidFieldError(key, `${key} must be a string`);
  return { [key]: value };
}

/** `GET /users` query parameters, each checked here so a bad one is a 422 naming it. */
function listQuery(query: Parameters<typeof queryValue>[0]): ListUsersQuery {
  const text = queryValue(query, 'query');
  const role = roleField(queryValue(query, 'role'), 'role');
  const status = oneOf(queryValue(query, 'status'), STATUSES, 'status');
  const limit = positiveInteger(queryValue(query, 'limit'), 'limit', LIST_LIMITS.max);
  const cursor = queryValue(query, 'cursor');
  return {
    ...(text === undefined ? {} : { query: text }),
    ...(role === undefined ? {} : { role }),
    ...(status === undefined ? {} : { status }),
    ...(limit === undefined ? {} : { limit }),
    ...(cursor === undefined ? {} : { cursor }),
  };
}

/** A `PATCH /users/:id` body: `role` (a role, or null for the default) and `status`; nothing else. */
function patchBody(body: unknown): { role?: string | null; status?: UserStatus } {
  const input = bodyObject(body);
  const unknown = Object.keys(input).find((key) => !PATCH_FIELDS.has(key));
  if (unknown !== undefined) throw new InvalidFieldError(unknown, `${unknown} cannot be changed here`);
  const role = input['role'] === null ? null : roleField(input['role'], 'role');
  const status = oneOf(input['status'], STATUSES, 'status');
  return {
    ...(role === undefined ? {} : { role }),
    ...(status === undefined ? {} : { status }),
  };
}

/**
 * The `/users` routes: each is one `ctx.guard` around provisioner calls. The ones that can take an admin away
 * (`PATCH`, `DELETE`) run through `changeUserKeepingAdmin` (404, 409 `last_admin`, one at a time per
 * process), re-checking the caller in the queue (403 if demoted, disabled or signed out meanwhile); a role
 * given (`PATCH`, `POST`) must be one of the caller's `assignableRoles` (403); every change names the calling
 * admin as the event's `actor`.
 */
export function userRoutes(ctx: AdminContext): Route[] {
  const { provisioner } = ctx;
  return [
    {
      method: 'GET',
      path: '/users',
      handler: ctx.guard(async ({ query }) => {
        // A cursor the store did not issue is its own 422 (field `cursor`), like every argument it refuses.
        const page = await provisioner.listUsers(listQuery(query));
        return json(200, { users: page.users, nextCursor: page.nextCursor });
      }),
    },
    {
      method: 'PATCH',
      path: '/users/:id',
      handler: ctx.guard(async ({ params, body }, auth) => {
        const patch = patchBody(body);
        // keepAdmin: the store re-checks the last admin atomically, across processes where it can.
        const actor = { actor: auth.user.id, keepAdmin: true };
        const user = await changeUserKeepingAdmin(
          provisioner,
          params['id'] ?? '',
          patch,
          async (target) => {
            let user = target;
            if (patch.role !== undefined) user = await provisioner.setRole(user.id, patch.role, actor);
            if (patch.status === 'disabled') user = await provisioner.disable(user.id, actor);
            if (patch.status === 'active') user = await provisioner.enable(user.id, actor);
            return user;
          },
          // Judged when the change lands, not when the request arrived: the queue may hold a demotion of the caller.
          async () => ctx.mayAssign(await ctx.recheck(auth), [patch.role]),
        );
        return json(200, user);
      }),
    },
    {
      method: 'DELETE',
      path: '/users/:id',
      handler: ctx.guard(async ({ params }, auth) => {
        await changeUserKeepingAdmin(
          provisioner,
          params['id'] ?? '',
          { deleted: true },
          (target) => provisioner.deleteUser(target.id, { actor: auth.user.id, keepAdmin: true }),
          () => ctx.recheck(auth),
        );
        return noContent();
      }),
    },
    {
      method: 'POST',
      path: '/users/:id/revoke-sessions',
      handler: ctx.guard(async ({ params }, auth) => {
        const user = await provisioner.revokeSessions(params['id'] ?? '', { actor: auth.user.id });
        return json(200, user);
      }),
    },
    {
      method: 'GET',
      path: '/users/:id',
      handler: ctx.guard(async ({ params }) => {
        const user = await provisioner.getUser(params['id'] ?? '');
        if (user === null) throw new UserNotFoundError();
        return json(200, user);
      }),
    },
    {
      method: 'POST',
      path: '/users',
      handler: ctx.guard(async ({ body }, auth) => {
        const input = bodyObject(body);
        const role = roleField(input['role'], 'role');
        await ctx.mayAssign(auth, [role]);
        const user = await asFieldErrors(() =>
          provisioner.preProvision(
            {
              issuer: input['issuer'] as string,
              subject: input['subject'] as string,
              ...optionalText(input, 'email'),
              ...optionalText(input, 'name'),
              ...(role === undefined ? {} : { role }),
            },
            { exclusive: true, actor: auth.user.id },
          ),
        );
        return json(201, user);
      }),
    },
  ];
}
