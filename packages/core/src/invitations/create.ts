import { randomUUID } from 'node:crypto';
import { InvalidRequestError } from '../errors';
import { hasControlCharacters, isRole, normaliseEmail, ROLE_RULE } from '../identity';
import type { InvitationStore } from '../store';
import { invitationCreated } from './events';
import type { InvitationTokens } from './tokens';
import type { CreatedInvitation, CreateInvitationInput, InvitationServiceOptions } from './types';

/** What {@link invitationCreator} works with: the service's store, tokens and settings. */
export interface InvitationCreatorOptions {
  invitations: InvitationStore;
  tokens: InvitationTokens;
  /** Default lifetime of an invitation. */
  ttlMs: number;
  now: () => Date;
  urlFor?: InvitationServiceOptions['urlFor'] | undefined;
  send?: InvitationServiceOptions['send'] | undefined;
}

function checkRole(role: unknown): string {
  if (!isRole(role)) throw new InvalidRequestError(`role ${ROLE_RULE}`);
  return role;
}

function checkInvitedBy(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255 || hasControlCharacters(value)) {
    throw new InvalidRequestError('invitedBy must be 1-255 characters without control characters');
  }
  return value;
}

/**
 * `InvitationService.create`: check the input, store the invitation (replacing a pending one for the same
 * email) under a new token's hash, and `send` it. A failing `send` leaves nothing behind.
 *
 * @example
 * ```ts
 * const create = invitationCreator({ invitations: store.invitations, tokens, ttlMs, now: () => new Date() });
 * const { invitation, token } = await create({ email: 'ada@example.com', invitedBy: admin.id });
 * ```
 */
export function invitationCreator(
  options: InvitationCreatorOptions,
): (input: CreateInvitationInput) => Promise<CreatedInvitation> {
  const { invitations, tokens, ttlMs, now, urlFor, send } = options;
  return async (input) => {
    if (typeof input !== 'object' || input === null)
      throw new InvalidRequestError('invitation must be an object');
    const email = normaliseEmail(input.email);
    const role = checkRole(input.role ?? 'user');
    const invitedBy = checkInvitedBy(input.invitedBy);
    const lifetime = input.expiresInMs ?? ttlMs;
    if (!Number.isFinite(lifetime) || lifetime <= 0)
      throw new InvalidRequestError('expiresInMs must be a positive number');
    const { token, tokenHash } = tokens.mint();
    const invitation = await invitations.createInvitation({
      id: randomUUID(),
      tokenHash,
      email,
      role,
      invitedBy,
      expiresAt: new Date(now().getTime() + lifetime),
    });
    invitationCreated(invitations, email);
    const url = urlFor?.(token);
    if (send !== undefined) {
      try {
        await send({ email, url, invitation });
      } catch (err) {
        // Nobody but the caller could learn the token now; an undelivered invitation is deleted so a
        // retry starts clean instead of leaving a live, unreachable one behind.
        await invitations.revokeInvitation(invitation.id, { soft: false }).catch(() => undefined);
        throw err;
      }
    }
    return { invitation, token, url };
  };
}
