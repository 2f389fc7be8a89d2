import { nodeRequestHeaders } from '../token';
import type { AdapterRequest, JitProvisionOptions } from './authenticate';
import { routedPath } from './routes';

/** The Node request an adapter holds: Express' `req`, Fastify's `request.raw`, @hono/node-server's `incoming`. */
export type NodeRequestLike = Parameters<typeof nodeRequestHeaders>[0];

/**
 * The {@link AdapterRequest} of a Node request, with the path and method the adapter already has: headers
 * with every repeated `Authorization` kept, and that header read once for the synchronous hit path. The
 * path is the adapter's because each framework normalises it its own way; taking it here (instead of
 * returning `{ headers, authorization }` for the adapter to copy) keeps one object per request.
 *
 * @example
 * ```ts
 * const path = options.skip === undefined ? '' : new URL(c.req.url).pathname;
 * const outcome = await authenticateRequest(provisioner, nodeAuthRequest(incoming, path, c.req.method), options);
 * ```
 */
export function nodeAuthRequest(req: NodeRequestLike, path: string, method: string): AdapterRequest {
  const headers = nodeRequestHeaders(req);
  // Node lower-cases header names, and nodeRequestHeaders put every repeated value here.
  return { headers, authorization: headers['authorization'], path, method };
}

/**
 * The {@link AdapterRequest} of a Node request (Express' `req`, Fastify's `request.raw`): headers with every
 * repeated `Authorization` kept, and the routed path ({@link routedPath}: decoded, no query) only when
 * `skip` needs it.
 *
 * @example
 * ```ts
 * const outcome = await authenticateRequest(provisioner, nodeAdapterRequest(req, req.originalUrl, options), options);
 * ```
 */
export function nodeAdapterRequest(
  req: NodeRequestLike & { method?: string | undefined },
  url: string | undefined,
  options: JitProvisionOptions,
): AdapterRequest {
  // Only `skip` reads the path: no split on the hot path otherwise.
  const path = options.skip === undefined ? '' : routedPath(url ?? '/');
  return nodeAuthRequest(req, path, req.method ?? 'GET');
}
