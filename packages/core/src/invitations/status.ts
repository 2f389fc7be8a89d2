import type { Invitation, InvitationStatus } from '../store';

/**
 * Where an invitation stands at `now`: revoked, consumed, expired or still pending (in that order of
 * precedence), as `list({ status })` filters it.
 *
 * @example
 * ```ts
 * for (const invitation of await invitations.list()) console.log(invitation.email, invitationStatus(invitation));
 * ```
 */
export function invitationStatus(invitation: Invitation, now: number = Date.now()): InvitationStatus {
  if (invitation.revokedAt !== null) return 'revoked';
  if (invitation.consumedAt !== null) return 'consumed';
  return invitation.expiresAt.getTime() <= now ? 'expired' : 'pending';
}

/** Every {@link InvitationStatus}, for input checks. */
export const INVITATION_STATUSES: readonly InvitationStatus[] = ['pending', 'consumed', 'revoked', 'expired'];
