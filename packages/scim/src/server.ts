import { ConfigurationError, type Provisioner } from '@jit-provision/core';
import type { Route, RouteAuthRequest } from '@jit-provision/core/adapter';
import { createAuthenticator } from './auth';
import { type ScimContext, scimHandler, scimJson } from './context';
import { listResponse, resourceTypes, schemas, serviceProviderConfig } from './discovery';
import { ScimError, scimErrorResponse } from './errors';
import { groupRoutes } from './groups';
import type { ResourceContext } from './resources';
import { userRoutes } from './users';

/** Options of {@link scimServer}. */
export interface ScimServerOptions {
  /** Its store needs the `scim` part (store-memory, store-postgres, store-kysely). */
  provisioner: Provisioner;
  /** The issuer whose users this endpoint provisions: one of the provisioner's trusted issuers. */
  issuer: string;
  /**
   * Bearer tokens the identity provider sends (several, for rotation). Each is the token itself (at least 32
   * bytes; `jit-provision scim token create` makes one) or its hash, `sha256:<64 hex digits>` ({@link hashToken}),
   * so the configuration need not hold the token. Compared in constant time.
   */
  tokens?: readonly string[];
  /** Or (and) the app's own check of a request's headers; a request passes when a token or this admits it. */
  authorize?: (headers: RouteAuthRequest['headers']) => boolean | Promise<boolean>;
  /** Roles from group memberships: a group's `displayName` or `externalId` → a role within `allow`. */
  groups?: { roles: { map: Readonly<Record<string, string>>; allow: readonly string[] } };
  /** What a SCIM DELETE does: `'disable'` (default: disabled, sessions revoked, hidden from SCIM) or `'delete'`. */
  onDelete?: 'disable' | 'delete';
  /** The cap (and default) of a list's `count`; default 100. Advertised as `filter.maxResults`. */
  maxResults?: number;
  /** Largest request body, bytes; default 1 MiB (a group PUT of about 20,000 members). */
  maxBodyBytes?: number;
  /**
   * The absolute URL the endpoint is reached at (`https://app.example.com/scim/v2`): `meta.location` and the
   * `Location` of a 201 are built from it. Without it they are references relative to the SCIM root
   * (`Users/<id>`): the request's `Host` is never trusted for it.
   */
  baseUrl?: string;
}

/** The SCIM route table, for an adapter's route mounter. */
export interface ScimServer {
  routes: Route[];
}

const DEFAULT_MAX_RESULTS = 100;
const DEFAULT_MAX_BODY_BYTES = 1_048_576;

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ConfigurationError(`scimServer: ${name} must be a positive integer`);
  return value;
}

function checkGroupRoles(groups: ScimServerOptions['groups']): void {
  if (groups === undefined) return;
  const { map, allow } = groups.roles ?? {};
  if (typeof map !== 'object' || map === null || !Array.isArray(allow))
    throw new ConfigurationError('scimServer: groups.roles needs map and allow');
  for (const [group, role] of Object.entries(map))
    if (!allow.includes(role))
      throw new ConfigurationError(`scimServer: groups.roles.map[${JSON.stringify(group)}] is not in allow`);
}

function baseUrlOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!URL.canParse(value)) throw new ConfigurationError('scimServer: baseUrl must be an absolute URL');
  return value.replace(/\/+$/, '');
}

function discoveryRoutes(resources: ResourceContext, maxResults: number): Route[] {
  const byId = (kind: string, list: ReturnType<typeof schemas>) =>
    scimHandler(async (request) => {
      const found = list.find((entry) => entry['id'] === request.params['id']);
      if (found === undefined)
        throw new ScimError(404, `${kind} ${JSON.stringify(request.params['id'])} not found`);
      return scimJson(200, found);
    });
  const all = (list: ReturnType<typeof schemas>) =>
    scimHandler(async () => scimJson(200, listResponse(list, list.length, 1)));
  const config = serviceProviderConfig(resources, maxResults);
  return [
    {
      method: 'GET',
      path: '/ServiceProviderConfig',
      handler: scimHandler(async () => scimJson(200, config)),
    },
    { method: 'GET', path: '/Schemas', handler: all(schemas(resources)) },
    { method: 'GET', path: '/Schemas/:id', handler: byId('Schema', schemas(resources)) },
    { method: 'GET', path: '/ResourceTypes', handler: all(resourceTypes(resources)) },
    { method: 'GET', path: '/ResourceTypes/:id', handler: byId('ResourceType', resourceTypes(resources)) },
  ];
}

/**
 * A SCIM 2.0 server (RFC 7643/7644) for one identity provider: Users, Groups and the discovery endpoints, as a
 * route table each adapter mounts under a prefix of the app's choice (express `router`, fastify
 * `routesPlugin`, hono `subApp`). Every request needs a configured bearer token (or `authorize`), checked
 * before the body is read; every answer, errors included, is `application/scim+json` with SCIM's Error schema.
 * A SCIM user's `id` is the user id; `active: false` disables the user and revokes their sessions.
 *
 * @throws ConfigurationError at start-up: neither `tokens` nor `authorize`, a token under 32 bytes, a store
 * without the `scim` part, an issuer that is not trusted, a role in `groups.roles.map` that is not in `allow`.
 *
 * @example
 * ```ts
 * import { scimServer } from '@jit-provision/scim';
 * import { router } from '@jit-provision/adapter-express';
 *
 * const scim = scimServer({ provisioner, issuer: 'https://login.microsoftonline.com/<tenant>/v2.0', tokens: [process.env.SCIM_TOKEN ?? ''] });
 * app.use('/scim/v2', router(scim.routes));
 * ```
 */
export function scimServer(options: ScimServerOptions): ScimServer {
  const { provisioner, issuer } = options;
  if (typeof provisioner?.directory !== 'function')
    throw new ConfigurationError('scimServer needs a provisioner with directory() (@jit-provision/core)');
  if (typeof issuer !== 'string' || issuer === '') throw new ConfigurationError('scimServer needs an issuer');
  const authenticate = createAuthenticator({ tokens: options.tokens, authorize: options.authorize });
  checkGroupRoles(options.groups);
  const maxResults = positiveInteger(options.maxResults, DEFAULT_MAX_RESULTS, 'maxResults');
  const maxBodyBytes = positiveInteger(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes');
  // Raises ConfigurationError itself for a store without the scim part or an untrusted issuer.
  const directory = provisioner.directory({
    issuer,
    ...(options.onDelete === undefined ? {} : { onDelete: options.onDelete }),
    ...(options.groups === undefined ? {} : { groupRoles: options.groups.roles }),
  });
  const resources: ResourceContext = { baseUrl: baseUrlOf(options.baseUrl) };
  const ctx: ScimContext = { directory, resources, maxResults };
  const routes = [...userRoutes(ctx), ...groupRoutes(ctx), ...discoveryRoutes(resources, maxResults)].map(
    (route): Route => ({
      ...route,
      authenticate,
      errorResponse: (response, err) => scimErrorResponse(err, response),
      maxBodyBytes,
      // A member is an object and a string: room for a body full of them, still bounded.
      maxBodyNodes: Math.ceil(maxBodyBytes / 16),
    }),
  );
  return { routes };
}
