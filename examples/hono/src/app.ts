import { adminApi, jitProvision } from '@jit-provision/adapter-hono';
import type { UserRecord } from '@jit-provision/core';
import { toHttpResponse } from '@jit-provision/core/adapter';
import { type AppOptions, PAGE_PATHS, pageFor, prometheusMetrics } from '@jit-provision/example-shared';
import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The user `jitProvision` attached; it is null only with `onProvisioningError: 'continue'` during an outage. */
function userOf(c: Context): UserRecord {
  const user = c.get('auth')?.user;
  if (!user) {
    const body = { error: 'provisioning_unavailable', error_description: 'Try again later' };
    throw new HTTPException(503, { res: Response.json(body, { status: 503 }) });
  }
  return user;
}

/** A JSON object body, or a 400. */
async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const body: unknown = await c.req.json().catch(() => null);
  if (typeof body !== 'object' || body === null) {
    throw new HTTPException(400, {
      res: Response.json(
        { error: 'invalid_request', error_description: 'Malformed request body' },
        { status: 400 },
      ),
    });
  }
  return body as Record<string, unknown>;
}

/** The demo API. Handlers after `jitProvision` see `c.get('auth')`, with the local user already created. */
export function createApp({ provisioner, invitations, todos, op }: AppOptions): Hono {
  const app = new Hono();

  // The pages (/admin, /invite, /account) need no token; the admin API they call verifies its own.
  const open = (path: string) =>
    path === '/health' ||
    path === '/metrics' ||
    path === '/admin' ||
    path === '/invite' ||
    path === '/account' ||
    path.startsWith('/pages/') ||
    path.startsWith('/admin/api/');
  for (const path of PAGE_PATHS) {
    app.get(path, async (c) => {
      const page = await pageFor(c.req.path, op?.issuer);
      if (!page) return c.json({ error: 'not_found', error_description: 'No such page' }, 404);
      return c.body(page.body, 200, page.headers);
    });
  }
  app.route('/admin/api', adminApi({ provisioner, invitations }));

  app.use('*', jitProvision(provisioner, { skip: open }));

  app.get('/health', (c) => c.json({ ok: true }));

  // provisioner.stats() for Prometheus; keep it off the public internet in production.
  const metrics = prometheusMetrics(provisioner);
  app.get('/metrics', async (c) =>
    c.body(await metrics.text(), 200, { 'content-type': metrics.contentType }),
  );

  app.get('/me', (c) => c.json({ user: userOf(c), created: c.get('auth')?.created ?? false }));

  app.get('/todos', (c) => c.json({ todos: todos.list(userOf(c).id) }));

  app.post('/todos', async (c) => {
    const user = userOf(c);
    const { title } = await jsonBody(c);
    if (typeof title !== 'string' || title.length === 0 || title.length > 200) {
      return c.json({ error: 'invalid_request', error_description: 'title: 1-200 characters' }, 400);
    }
    return c.json({ todo: todos.add(user.id, title) }, 201);
  });

  app.post('/admin/invitations', async (c) => {
    const user = userOf(c);
    if (user.role !== 'admin') return c.json({ error: 'forbidden', error_description: 'Admins only' }, 403);
    const body = await jsonBody(c);
    const { invitation, url } = await invitations.create({
      email: body['email'] as string, // validated by create()
      role: (body['role'] as string | undefined) ?? 'user',
      invitedBy: user.id,
    });
    const { id, email, role, expiresAt } = invitation;
    return c.json({ invitation: { id, email, role, expiresAt }, url }, 201);
  });

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    const { status, headers, body } = toHttpResponse(err);
    return c.json(body, status as ContentfulStatusCode, headers);
  });
  return app;
}
