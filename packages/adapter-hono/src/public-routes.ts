import type { Context } from 'hono';

/** The handlers of route-table routes marked `public`, which `subApp` registers with {@link markPublic}. */
const publicHandlers = new WeakSet<object>();
// Until a public route exists in this process, no request can be routed to one: the middleware then skips
// the scan below, which builds Hono's matched-route list (an array per request).
let anyPublic = false;

/** Record `handler` as the handler of a public route-table route. */
export function markPublic(handler: object): void {
  publicHandlers.add(handler);
  anyPublic = true;
}

/**
 * True when the request is routed to a public route-table route: the first route after the current
 * middleware that is not itself middleware (`app.use` registers method `ALL`) is one `subApp` marked public.
 * Hono matches every route before the first middleware runs, so the app-wide middleware can see it.
 */
export function routedToPublic(c: Context): boolean {
  if (!anyPublic) return false;
  // `matchedRoutes` is deprecated for the `hono/route` helper, which needs hono 4.8; the peer range is ^4.
  const matched = c.req.matchedRoutes;
  for (let i = c.req.routeIndex + 1; i < matched.length; i++) {
    const route = matched[i];
    if (route === undefined || route.method === 'ALL') continue;
    return publicHandlers.has(route.handler);
  }
  return false;
}
