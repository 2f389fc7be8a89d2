import type { Route } from '@jit-provision/core/adapter';
import type { FastifyRequest } from 'fastify';

/** The route config key under which `routesPlugin` keeps each route's table entry. */
export const ROUTE_KEY = 'jitProvisionRoute';

/**
 * The route-table entry a request was routed to, or undefined for any other route. Fastify routes before
 * `onRequest`, so the app-wide hook can see that the route is `public`.
 */
export const tableRouteOf = (request: FastifyRequest): Route | undefined =>
  (request.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[ROUTE_KEY] as
    | Route
    | undefined;
