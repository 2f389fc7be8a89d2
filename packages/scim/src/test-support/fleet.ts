// Test support: deprovisioning through SCIM, as a change variant of store-postgres's invalidation fleet (4 app
// processes with the user cached; the change made in a fifth). Shared by the cross-process test and the bench.
import { subApp } from '@jit-provision/adapter-hono';
import { createProvisioner, type Provisioner } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';
import { Hono } from 'hono';
import type {
  ChangeContext,
  ChangeVariant,
} from '../../../store-postgres/src/test-support/invalidation-fleet';
import { scimServer } from '../server';

export type { ChangeVariant } from '../../../store-postgres/src/test-support/invalidation-fleet';
export { runInvalidationFleet } from '../../../store-postgres/src/test-support/invalidation-fleet';

const TOKEN = 'fleet-scim-token-0123456789abcdefghijklmnop';

/** One request to an in-process SCIM endpoint: its status and parsed body (undefined when empty). */
export type ScimSend = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>;

/**
 * `scimServer` for `issuer` on a Hono app, called in process (`app.request`: routing, JSON parse and render,
 * no socket), with a bearer token it accepts.
 *
 * @example
 * ```ts
 * const send = scimOnHono(provisioner, issuer);
 * await send('PATCH', `/Users/${id}`, { Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
 * ```
 */
export function scimOnHono(provisioner: Provisioner, issuer: string): ScimSend {
  const app = new Hono();
  app.route('/scim/v2', subApp(scimServer({ provisioner, issuer, tokens: [TOKEN] }).routes));
  return async (method, path, body) => {
    const res = await app.request(`/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
}

/** A SCIM endpoint in the driving process, on the fleet's database; its create adopts the fleet's user. */
async function endpointFor(context: ChangeContext): Promise<ScimSend> {
  const store = createPostgresStore({ pool: context.pool, schema: context.schema, listen: false });
  // Okta-style (externalId = subject): the SCIM create adopts the row the fleet pre-provisioned.
  const provisioner = createProvisioner({
    store,
    userCache: false,
    issuers: [{ issuer: context.issuer, audience: 'fleet', externalIdClaim: 'sub' }],
  });
  const send = scimOnHono(provisioner, context.issuer);
  const made = await send('POST', '/Users', {
    userName: 'fleet@example.com',
    externalId: context.subject,
    active: true,
  });
  if ((made.body as { id?: string } | undefined)?.id !== context.userId)
    throw new Error(`the SCIM create did not adopt the fleet user (${made.status})`);
  return send;
}

/**
 * Entra's deprovisioning and reprovisioning (PATCH `active` as the strings it sends) through a SCIM endpoint in
 * the driving process: every fleet process must refuse the user (`user_disabled`), then serve it again.
 *
 * @example
 * ```ts
 * await runInvalidationFleet({ url, schema, processes: 4, changes: 20, variants: scimActiveChanges(), deadlineMs: 15_000 });
 * ```
 */
export function scimActiveChanges(): ChangeVariant[] {
  let send: ScimSend | undefined;
  const patch = async (context: ChangeContext, active: 'True' | 'False') => {
    const res = await send?.('PATCH', `/Users/${context.userId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'active', value: active }],
    });
    if (res?.status !== 200) throw new Error(`SCIM PATCH answered ${res?.status}`);
  };
  return [
    {
      name: 'SCIM PATCH active "False"',
      expect: () => ({ error: 'user_disabled' }),
      async prepare(context) {
        send ??= await endpointFor(context);
      },
      apply: (context) => patch(context, 'False'),
    },
    {
      name: 'SCIM PATCH active "True"',
      expect: () => ({ status: 'active' }),
      apply: (context) => patch(context, 'True'),
    },
  ];
}
