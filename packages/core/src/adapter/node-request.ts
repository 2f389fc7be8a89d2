import { nodeRequestHeaders } from '../token';
import type { AdapterRequest, JitProvisionOptions } from './authenticate';

/**
 * The {@link AdapterRequest} of a Node request (Express' `req`, Fastify's `request.raw`): headers with every
 * repeated `Authorization` kept, and the raw path only when `skip` needs it.
 *
 * @example
 * ```ts
 * const outcome = await authenticateRequest(provisioner, nodeAdapterRequest(req, req.originalUrl, options), options);
 * ```
 */
export function nodeAdapterRequest(
  req: Parameters<typeof nodeRequestHeaders>[0] & { method?: string | undefined },
  url: string | undefined,
  options: JitProvisionOptions,
): AdapterRequest {
  const headers = nodeRequestHeaders(req);
  return {
    headers,
    // Node lower-cases header names, and nodeRequestHeaders put every repeated value here.
    authorization: headers['authorization'],
    // Only `skip` reads the path: no split on the hot path otherwise.
    path: options.skip === undefined ? '' : ((url ?? '/').split('?')[0] ?? '/'),
    method: req.method ?? 'GET',
  };
}
