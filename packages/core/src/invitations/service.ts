import { ConfigurationError, InvalidRequestError } from '../errors';
import { positive } from '../internal';
import type { InvitationStore, Store } from '../store';
import { invitationCreator } from './create';
import { createMany } from './create-many';
import { invitationRedeemer } from './redeem';
import { INVITATION_STATUSES } from './status';
import { invitationTokens } from './tokens';
import type { InvitationService, InvitationServiceOptions } from './types';

const DAY = 24 * 60 * 60 * 1000;

function invitationStoreOf(store: unknown): InvitationStore {
  const invitations = typeof store === 'object' && store !== null ? (store as Store).invitations : undefined;
  if (typeof invitations?.createInvitation !== 'function') {
    throw new ConfigurationError('createInvitationService needs a store with `invitations`');
  }
  return invitations;
}

/**
 * Invitation-only signup. Tokens are 32 random bytes (base64url) shown once; only their
 * HMAC-SHA256 under `secret` is stored, so a leaked database yields no usable link.
 * Every refusal is an `InvalidInvitationError` whose `code` says why (`invitation_expired`, ...);
 * HTTP answers collapse them to `invalid_invitation`.
 *
 * @example
 * ```ts
 * const invitations = createInvitationService({
 *   store,
 *   secret: process.env.INVITATION_SECRET!, // ≥ 32 bytes
 *   urlFor: (token) => `https://app.example.com/signup?token=${token}`,
 *   send: ({ email, url }) => mailer.send(email, `You are invited: ${url}`),
 * });
 * const { invitation } = await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: admin.id });
 * // later, at signup:
 * await invitations.consume({ token, email: 'ada@example.com' });
 * ```
 */
export function createInvitationService(options: InvitationServiceOptions): InvitationService {
  const { store } = options;
  const invitations = invitationStoreOf(store);
  const tokens = invitationTokens(options.secret);
  const ttlMs = positive(options.ttlMs, 7 * DAY, 'ttlMs');
  const now = options.now ?? (() => new Date());
  const { urlFor, send } = options;
  const create = invitationCreator({ invitations, tokens, ttlMs, now, urlFor, send });
  const redeem = invitationRedeemer({ invitations, tokens, now });

  return {
    create,
    createMany: (list, opts) => createMany(create, list, opts),
    peek: redeem.peek,
    find: redeem.find,
    validate: redeem.validate,
    consume: redeem.consume,
    async revoke(id, opts = {}) {
      if (typeof id !== 'string' || id.length === 0) throw new InvalidRequestError('id must be a string');
      return invitations.revokeInvitation(id, { soft: opts.soft ?? true });
    },
    async purgeExpired({ olderThanMs }) {
      if (!Number.isFinite(olderThanMs) || olderThanMs < 0) {
        throw new InvalidRequestError('olderThanMs must be a number ≥ 0');
      }
      return invitations.purgeInvitations(new Date(now().getTime() - olderThanMs));
    },
    async list(filter = {}) {
      if (filter.status !== undefined && !INVITATION_STATUSES.includes(filter.status)) {
        throw new InvalidRequestError(`status must be one of ${INVITATION_STATUSES.join(', ')}`);
      }
      return invitations.listInvitations(
        filter.status === undefined ? { now: now() } : { status: filter.status, now: now() },
      );
    },
    consumePendingForEmail: redeem.consumePendingForEmail,
    unconsume: redeem.unconsume,
    store,
  };
}
