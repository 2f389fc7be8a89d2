import { adminApi, jitProvision } from '@jit-provision/adapter-express';
import { isJitProvisionError, type UserRecord } from '@jit-provision/core';
import { toHttpResponse } from '@jit-provision/core/adapter';
import { type AppOptions, PAGE_PATHS, pageFor, prometheusMetrics } from '@jit-provision/example-shared';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';

/** The user `jitProvision` attached; it is null only with `onProvisioningError: 'continue'` during an outage. */
function userOf(req: Request, res: Response): UserRecord | undefined {
  const user = req.auth?.user;
  if (!user)
    res.status(503).json({ error: 'provisioning_unavailable', error_description: 'Try again later' });
  return user ?? undefined;
}

/** The demo API. Everything after `jitProvision` sees `req.auth`, with the local user already created. */
export function createApp({ provisioner, invitations, todos, op }: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));

  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });

  // The pages (/admin, /invite, /account) and the admin API they call: both before `jitProvision`, the
  // pages need no token and the admin API verifies its own.
  app.get([...PAGE_PATHS], async (req, res) => {
    const page = await pageFor(req.path, op?.issuer);
    if (page) res.status(page.status).set(page.headers).send(page.body);
    else res.status(404).json({ error: 'not_found', error_description: 'No such page' });
  });
  app.use('/admin/api', adminApi({ provisioner, invitations }));

  // provisioner.stats() for Prometheus; keep it off the public internet in production.
  const metrics = prometheusMetrics(provisioner);
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.text());
  });

  app.use(jitProvision(provisioner));

  app.get('/me', (req, res) => {
    const user = userOf(req, res);
    if (user) res.json({ user, created: req.auth?.created ?? false });
  });

  app.get('/todos', (req, res) => {
    const user = userOf(req, res);
    if (user) res.json({ todos: todos.list(user.id) });
  });

  app.post('/todos', (req, res) => {
    const user = userOf(req, res);
    if (!user) return;
    const title: unknown = req.body?.title;
    if (typeof title !== 'string' || title.length === 0 || title.length > 200) {
      res.status(400).json({ error: 'invalid_request', error_description: 'title: 1-200 characters' });
      return;
    }
    res.status(201).json({ todo: todos.add(user.id, title) });
  });

  app.post('/admin/invitations', async (req, res) => {
    const user = userOf(req, res);
    if (!user) return;
    if (user.role !== 'admin') {
      res.status(403).json({ error: 'forbidden', error_description: 'Admins only' });
      return;
    }
    const { invitation, url } = await invitations.create({
      email: req.body?.email,
      role: req.body?.role ?? 'user',
      invitedBy: user.id,
    });
    const { id, email, role, expiresAt } = invitation;
    res.status(201).json({ invitation: { id, email, role, expiresAt }, url });
  });

  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    if (!isJitProvisionError(err) && typeof err?.status === 'number' && err.status < 500) {
      // body-parser's errors (malformed JSON, too large) carry a 4xx status.
      res.status(err.status).json({ error: 'invalid_request', error_description: 'Malformed request body' });
      return;
    }
    const { status, headers, body } = toHttpResponse(err);
    res.status(status).set(headers).json(body);
  };
  app.use(onError);
  return app;
}
