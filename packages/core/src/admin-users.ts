import { type AdminContext, json } from './admin-context';
import { asFieldErrors, bodyObject, roleField } from './admin-fields';
import { InvalidFieldError, UserNotFoundError } from './errors';
import type { Route } from './routes';

/** An optional text field of a pre-provisioned user: type-checked here, its length by the identity rules. */
function optionalText(body: Record<string, unknown>, key: 'email' | 'name'): { [k: string]: string } {
  const value = body[key];
  if (value === undefined) return {};
  if (typeof value !== 'string') throw new InvalidFieldError(key, `${key} must be a string`);
  return { [key]: value };
}

/**
 * The `/users` routes. Listing, `PATCH`, `DELETE` and `revoke-sessions` come with the provisioner's lifecycle
 * methods; each is one `ctx.guard` around one provisioner call (plus `assertAdminRemains` for the ones that
 * can remove an admin).
 */
export function userRoutes(ctx: AdminContext): Route[] {
  const { provisioner } = ctx;
  return [
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
      handler: ctx.guard(async ({ body }) => {
        const input = bodyObject(body);
        const role = roleField(input['role'], 'role');
        const user = await asFieldErrors(() =>
          provisioner.preProvision(
            {
              issuer: input['issuer'] as string,
              subject: input['subject'] as string,
              ...optionalText(input, 'email'),
              ...optionalText(input, 'name'),
              ...(role === undefined ? {} : { role }),
            },
            { exclusive: true },
          ),
        );
        return json(201, user);
      }),
    },
  ];
}
