import { InvalidInvitationError } from '../errors';
import { normaliseEmail, safeEqual } from '../identity';
import type { Invitation, InvitationStore } from '../store';
import type { InvitationTokens } from './tokens';
import type { InvitationService } from './types';

/** The invitee's side of {@link InvitationService}: what a token (or a verified email) does with an invitation. */
export type InvitationRedeemer = Pick<
  InvitationService,
  'peek' | 'find' | 'validate' | 'consume' | 'consumePendingForEmail' | 'unconsume'
>;

interface Deps {
  invitations: InvitationStore;
  tokens: InvitationTokens;
  now: () => Date;
}

/** Find the invitation of a token and check it at `at`; the reasons are checked from most to least final. */
async function check(
  { invitations, tokens }: Deps,
  token: unknown,
  email: string | undefined,
  at: Date,
): Promise<Invitation> {
  // A token that cannot be ours is refused before touching the store.
  if (!tokens.wellFormed(token)) throw new InvalidInvitationError('invitation_invalid');
  const invitation = await invitations.findInvitation(tokens.hashes(token));
  if (invitation === null) throw new InvalidInvitationError('invitation_invalid');
  if (invitation.revokedAt !== null) throw new InvalidInvitationError('invitation_revoked');
  if (invitation.consumedAt !== null) throw new InvalidInvitationError('invitation_consumed');
  if (invitation.expiresAt.getTime() <= at.getTime()) throw new InvalidInvitationError('invitation_expired');
  if (email !== undefined && !safeEqual(email, invitation.email)) {
    throw new InvalidInvitationError('invitation_email_mismatch');
  }
  return invitation;
}

/**
 * Peek, find, validate and consume invitations by token; consume the pending one of a verified email; put
 * back one whose user creation failed. Every refusal is an `InvalidInvitationError` whose `code` says why.
 *
 * @example
 * ```ts
 * const redeem = invitationRedeemer({ invitations: store.invitations, tokens, now: () => new Date() });
 * const invitation = await redeem.consume({ token, email: 'ada@example.com' });
 * ```
 */
export function invitationRedeemer(deps: Deps): InvitationRedeemer {
  const { invitations, tokens, now } = deps;
  return {
    async peek(input) {
      const { email, role, expiresAt } = await check(deps, input?.token, undefined, now());
      return { email, role, expiresAt };
    },
    async find(input) {
      const token = input?.token;
      if (!tokens.wellFormed(token)) return null;
      return invitations.findInvitation(tokens.hashes(token));
    },
    async validate(input) {
      return check(deps, input?.token, normaliseEmail(input?.email), now());
    },
    async consume(input) {
      const email = normaliseEmail(input?.email);
      const at = now();
      const invitation = await check(deps, input.token, email, at);
      const consumed = await invitations.consumeInvitation(invitation.id, at);
      if (consumed !== null) return consumed;
      // Lost a race (or it expired/was revoked in between): report the state that beat us.
      await check(deps, input.token, email, now());
      throw new InvalidInvitationError('invitation_consumed');
    },
    async consumePendingForEmail(rawEmail) {
      const email = normaliseEmail(rawEmail);
      // A racer may consume the one we found; a replacement may appear meanwhile: look again, a few times.
      for (let attempt = 0; attempt < 3; attempt++) {
        const at = now();
        const pending = await invitations.findPendingInvitationByEmail(email, at);
        if (pending === null) return null;
        const consumed = await invitations.consumeInvitation(pending.id, at);
        if (consumed !== null) return consumed;
      }
      return null;
    },
    unconsume: async ({ id, consumedAt }) =>
      consumedAt !== null && (await invitations.unconsumeInvitation(id, consumedAt)),
  };
}
