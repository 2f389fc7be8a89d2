/** Invitation row as stored: only the HMAC of the token, never the token. */
export interface Invitation {
  id: string;
  email: string;
  role: string;
  invitedBy: string;
  createdAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
  revokedAt: Date | null;
}

/** Where an invitation stands: only `pending` ones can be consumed. */
export type InvitationStatus = 'pending' | 'consumed' | 'revoked' | 'expired';

/** What `InvitationStore.createInvitation` stores: the token's HMAC (`tokenHash`), never the token. */
export interface NewInvitation {
  id: string;
  tokenHash: string;
  email: string;
  role: string;
  invitedBy: string;
  expiresAt: Date;
}

/** Storage for invitations; `createInvitationService` drives it. */
export interface InvitationStore {
  /** Insert, replacing (revoking) any pending invitation for the same normalised email, atomically. */
  createInvitation(input: NewInvitation): Promise<Invitation>;
  /** Find by any of the token hashes (several while a secret rotates). */
  findInvitation(tokenHashes: readonly string[]): Promise<Invitation | null>;
  /** The pending (unconsumed, unrevoked, `expiresAt > now`) invitation for a normalised email, if any. */
  findPendingInvitationByEmail(email: string, now: Date): Promise<Invitation | null>;
  /**
   * Mark consumed iff still pending and unexpired at `now`: exactly one of any number of racing callers
   * gets the invitation back, the rest get null.
   */
  consumeInvitation(id: string, now: Date): Promise<Invitation | null>;
  /**
   * Undo a consume whose user creation failed, atomically and only if it is still that consume's: the row
   * is not revoked, its `consumed_at` equals `consumedAt` (the value the undone `consumeInvitation` set),
   * and no other invitation for the same email was created since this one (a re-invite replaced it).
   * Otherwise nothing changes, so "at most one pending invitation per email" holds under every
   * interleaving: an invitation re-issued while a slow first login held the old one never brings the old
   * one (and its role) back. Resolves true when the invitation is pending again. Must be atomic with
   * `createInvitation` (store-postgres: the same per-email advisory lock).
   */
  unconsumeInvitation(id: string, consumedAt: Date): Promise<boolean>;
  /** soft: revoke now (kept for audit); hard: delete. Returns false when there was no such invitation. */
  revokeInvitation(id: string, options: { soft: boolean }): Promise<boolean>;
  /** Delete invitations that expired (or were revoked/consumed) before `before`; returns how many. */
  purgeInvitations(before: Date): Promise<number>;
  listInvitations(filter: { status?: InvitationStatus; now: Date }): Promise<Invitation[]>;
}
