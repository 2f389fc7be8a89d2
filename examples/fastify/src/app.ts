import { adminApi, jitProvision } from '@jit-provision/adapter-fastify';
import { isJitProvisionError, type UserRecord } from '@jit-provision/core';
import { toHttpResponse } from '@jit-provision/core/adapter';
import { type AppOptions, PAGE_PATHS, pageFor, prometheusMetrics } from '@jit-provision/example-shared';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

/** The user `jitProvision` attached; it is null only with `onProvisioningError: 'continue'` during an outage. */
function userOf(request: FastifyRequest, reply: FastifyReply): UserRecord | undefined {
  const user = request.auth?.user;
  if (!user)
    reply.code(503).send({ error: 'provisioning_unavailable', error_description: 'Try again later' });
  return user ?? undefined;
}

/** The demo API. Routes in the authenticated scope see `request.auth`, with the local user already created. */
export async function createApp({
  provisioner,
  invitations,
  todos,
  op,
}: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: 16 * 1024 });

  app.setErrorHandler((err, _request, reply) => {
    const status = (err as { statusCode?: unknown }).statusCode;
    if (!isJitProvisionError(err) && typeof status === 'number' && status < 500) {
      // Fastify's own request errors (malformed JSON, too large) carry a 4xx statusCode.
      return reply.code(status).send({ error: 'invalid_request', error_description: 'Malformed request' });
    }
    const { status: code, headers, body } = toHttpResponse(err);
    return reply.code(code).headers(headers).send(body);
  });

  app.get('/health', async () => ({ ok: true }));

  // provisioner.stats() for Prometheus; keep it off the public internet in production.
  const metrics = prometheusMetrics(provisioner);
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  // The pages (/admin, /invite, /account) need no token; the admin API they call verifies its own.
  for (const path of PAGE_PATHS) {
    app.get(path, async (request, reply) => {
      const page = await pageFor(request.url.split('?')[0] ?? '', op?.issuer);
      if (!page) return reply.code(404).send({ error: 'not_found', error_description: 'No such page' });
      return reply.code(page.status).headers(page.headers).send(page.body);
    });
  }
  await app.register(adminApi({ provisioner, invitations }), { prefix: '/admin/api' });

  // The plugin authenticates every route of the scope it is registered in, and only those.
  await app.register(async (api) => {
    await api.register(jitProvision, { provisioner });

    api.get('/me', async (request, reply) => {
      const user = userOf(request, reply);
      if (user) return { user, created: request.auth?.created ?? false };
      return reply;
    });

    api.get('/todos', async (request, reply) => {
      const user = userOf(request, reply);
      if (user) return { todos: todos.list(user.id) };
      return reply;
    });

    api.post<{ Body: { title?: unknown } | null }>('/todos', async (request, reply) => {
      const user = userOf(request, reply);
      if (!user) return reply;
      const title = request.body?.title;
      if (typeof title !== 'string' || title.length === 0 || title.length > 200) {
        return reply
          .code(400)
          .send({ error: 'invalid_request', error_description: 'title: 1-200 characters' });
      }
      return reply.code(201).send({ todo: todos.add(user.id, title) });
    });

    api.post<{ Body: { email?: string; role?: string } | null }>(
      '/admin/invitations',
      async (request, reply) => {
        const user = userOf(request, reply);
        if (!user) return reply;
        if (user.role !== 'admin') {
          return reply.code(403).send({ error: 'forbidden', error_description: 'Admins only' });
        }
        const { invitation, url } = await invitations.create({
          email: request.body?.email as string,
          role: request.body?.role ?? 'user',
          invitedBy: user.id,
        });
        const { id, email, role, expiresAt } = invitation;
        return reply.code(201).send({ invitation: { id, email, role, expiresAt }, url });
      },
    );
  });
  return app;
}
