import type { Context } from 'hono';
import { getRuntimeKey } from 'hono/adapter';
import type { GetConnInfo } from 'hono/conninfo';

export type { GetConnInfo } from 'hono/conninfo';

type Env = Record<string, unknown> | undefined;
type RequestIp = (request: Request) => { address?: string } | null | undefined;

/** @hono/node-server passes the Node request as `c.env.incoming` (what its `getConnInfo` reads). */
const nodeAddress = (c: Context): string | undefined =>
  (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
    ?.remoteAddress;

/** `Bun.serve` passes its server as the second argument of `fetch`: Hono's `c.env` (or `c.env.server`). */
function bunAddress(c: Context): string | undefined {
  const env = c.env as Env;
  const server = (typeof env?.['requestIP'] === 'function' ? env : env?.['server']) as
    | { requestIP?: RequestIp }
    | undefined;
  return typeof server?.requestIP === 'function'
    ? (server.requestIP(c.req.raw)?.address ?? undefined)
    : undefined;
}

/** `Deno.serve` passes its `ServeHandlerInfo` as the second argument of `fetch`: `c.env.remoteAddr`. */
const denoAddress = (c: Context): string | undefined =>
  (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr?.hostname;

/** Detected once: the runtime does not change under a running app. */
let runtime: ReturnType<typeof getRuntimeKey> | undefined;

/**
 * The client address as the runtime reports it, without importing any runtime's module: the same reads as
 * Hono's `getConnInfo` helpers (`@hono/node-server/conninfo`, `hono/bun`, `hono/deno`,
 * `hono/cloudflare-workers`). On workerd the address is Cloudflare's `cf-connecting-ip`, which only
 * Cloudflare's edge sets and a client cannot forge there; it is read on workerd only.
 */
export function runtimeClientAddress(c: Context): string | undefined {
  // @hono/node-server first, read as before this function existed: Node pays one property chain, no more.
  const node = nodeAddress(c);
  if (node !== undefined) return node;
  runtime ??= getRuntimeKey();
  switch (runtime) {
    case 'bun':
      return bunAddress(c);
    case 'deno':
      return denoAddress(c);
    case 'workerd':
      return c.req.raw.headers.get('cf-connecting-ip') ?? undefined;
    default:
      return undefined;
  }
}

/** The address through the app's own `getConnInfo` when it gave one, else the runtime's. */
export const clientAddressOf = (c: Context, getConnInfo: GetConnInfo | undefined): string | undefined =>
  getConnInfo === undefined ? runtimeClientAddress(c) : getConnInfo(c).remote.address;
