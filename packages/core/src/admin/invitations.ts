import type { Route } from '../adapter';
import { InvalidFieldError, isJitProvisionError, NotFoundError, RateLimitedError } from '../errors';
import { INVITATION_STATUSES, invitationStatus } from '../invitations';
import type { Invitation } from '../store';
import type { BulkEntry, BulkJobs } from './bulk';
import { type AdminContext, json, NO_STORE, noContent } from './context';
import { bodyObject, emailField, oneOf, positiveInteger, queryValue, roleField } from './fields';
import type { PeekLimiter } from './peek-limit';

const DAY = 86_400_000;
/** Longest lifetime an admin may give one invitation. */
const MAX_EXPIRES_IN_MS = 365 * DAY;
/** `POST /invitations/purge` without `olderThanMs`: what ended more than 30 days ago. */
const DEFAULT_PURGE_AGE_MS = 30 * DAY;

/** An invitation as the API shows it: listed fields only, so a store's extra columns (a token hash) never leak. */
function invitationView(i: Invitation, now = Date.now()) {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    status: invitationStatus(i, now),
    invitedBy: i.invitedBy,
    createdAt: i.createdAt,
    expiresAt: i.expiresAt,
    consumedAt: i.consumedAt,
    revokedAt: i.revokedAt,
  };
}

/**
 * The entries of a bulk body, each with its role. Only the body's shape is refused here (422 `emails`: not a
 * list of 1 to `maxBulk` entries; 422 `role`: a bad default role); a bad entry is passed on, to fail as that
 * entry's result while the others are sent, as `createMany` and the CLI do.
 */
function bulkEntries(
  body: Record<string, unknown>,
  maxBulk: number,
): { entries: BulkEntry[]; roles: unknown[] } {
  const { emails, role } = body;
  const fallback = roleField(role, 'role');
  if (!Array.isArray(emails) || emails.length === 0 || emails.length > maxBulk)
    throw new InvalidFieldError('emails', `emails must be a list of 1 to ${maxBulk} entries`);
  const roles: unknown[] = [fallback];
  const entries = emails.map((entry: unknown): BulkEntry => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      return { email: entry, role: fallback ?? 'user' };
    const { email, role: own } = entry as Record<string, unknown>;
    roles.push(own);
    return { email, role: own ?? fallback ?? 'user' };
  });
  return { entries, roles };
}

/** Options the invitation routes need beyond the shared context. */
export interface InvitationRoutesOptions {
  jobs: BulkJobs;
  maxBulk: number;
  /** Per client, then for all; undefined turns the limit off. */
  peekLimiter: PeekLimiter | undefined;
}

/** The `/invitations` routes, including the public `peek`. */
export function invitationRoutes(ctx: AdminContext, options: InvitationRoutesOptions): Route[] {
  const { invitations } = ctx;
  const { jobs, maxBulk, peekLimiter } = options;
  return [
    {
      method: 'GET',
      path: '/invitations',
      handler: ctx.guard(async ({ query }) => {
        const status = oneOf(queryValue(query, 'status'), INVITATION_STATUSES, 'status');
        const list = await invitations.list(status === undefined ? {} : { status });
        const now = Date.now();
        return json(200, { invitations: list.map((i) => invitationView(i, now)) });
      }),
    },
    {
      method: 'POST',
      path: '/invitations',
      handler: ctx.guard(async ({ body }, auth) => {
        const input = bodyObject(body);
        const role = roleField(input['role'], 'role');
        const expiresInMs = positiveInteger(input['expiresInMs'], 'expiresInMs', MAX_EXPIRES_IN_MS);
        const email = emailField(input['email'], 'email');
        await ctx.mayAssign(auth, [role]);
        const created = await invitations.create({
          email,
          invitedBy: auth.user.id,
          ...(role === undefined ? {} : { role }),
          ...(expiresInMs === undefined ? {} : { expiresInMs }),
        });
        // The token reaches the admin only inside `url` (to hand over); it is never listed again.
        return json(201, { invitation: invitationView(created.invitation), url: created.url ?? null });
      }),
    },
    {
      method: 'POST',
      path: '/invitations/bulk',
      handler: ctx.guard(async ({ body }, auth) => {
        const { entries, roles } = bulkEntries(bodyObject(body), maxBulk);
        // A role the caller may not give refuses the whole list: nobody is invited.
        await ctx.mayAssign(auth, roles);
        return json(202, { job: await jobs.start(entries, auth.user.id) });
      }),
    },
    {
      method: 'GET',
      path: '/invitations/bulk/:job',
      handler: ctx.guard(async ({ params }) => {
        const { id: _id, ...progress } = jobs.get(params['job'] ?? '');
        return json(200, progress);
      }),
    },
    {
      method: 'DELETE',
      path: '/invitations/:id',
      handler: ctx.guard(async ({ params, query }) => {
        const soft = oneOf(queryValue(query, 'soft'), ['true', 'false'], 'soft') === 'true';
        if (!(await invitations.revoke(params['id'] ?? '', { soft })))
          throw new NotFoundError('No such invitation');
        return noContent();
      }),
    },
    {
      method: 'POST',
      path: '/invitations/purge',
      handler: ctx.guard(async ({ body }) => {
        const { olderThanMs } = bodyObject(body);
        if (
          olderThanMs !== undefined &&
          (typeof olderThanMs !== 'number' || !Number.isSafeInteger(olderThanMs) || olderThanMs < 0)
        )
          throw new InvalidFieldError('olderThanMs', 'olderThanMs must be a whole number ≥ 0');
        const purged = await invitations.purgeExpired({ olderThanMs: olderThanMs ?? DEFAULT_PURGE_AGE_MS });
        return json(200, { purged });
      }),
    },
    {
      method: 'GET',
      path: '/invitations/peek',
      handler: ctx.open(async ({ query, ip }) => {
        const wait = peekLimiter?.take(ip) ?? 0;
        if (wait > 0) throw new RateLimitedError(wait);
        const token = queryValue(query, 'token');
        if (token === undefined) throw new InvalidFieldError('token', 'token is required');
        try {
          const { email, role, expiresAt } = await invitations.peek({ token });
          return { ...json(200, { email, role, expiresAt }), headers: PEEK_HEADERS };
        } catch (err) {
          // Unknown, consumed, revoked and expired look the same, so a token cannot be probed for its state.
          if (
            isJitProvisionError(
              err,
              'invitation_invalid',
              'invitation_consumed',
              'invitation_revoked',
              'invitation_expired',
            )
          )
            throw new NotFoundError('No pending invitation for this token');
          throw err;
        }
      }),
    },
  ];
}

/** The page holding the token in its URL must not hand it on as a referrer. */
const PEEK_HEADERS = { 'content-type': 'application/json', ...NO_STORE, 'referrer-policy': 'no-referrer' };
