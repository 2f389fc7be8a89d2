import type { Invitation, UserRecord } from '@jit-provision/core';

/** Columns of `users`, in the order `toUser` reads them. */
export const USER_COLUMNS =
  'id, issuer, subject, username, email, name, role, tenant_id, created_at, updated_at';

export interface UserRow {
  id: string;
  issuer: string;
  subject: string;
  username: string;
  email: string | null;
  name: string | null;
  role: string;
  tenant_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  issuer: row.issuer,
  subject: row.subject,
  username: row.username,
  email: row.email,
  name: row.name,
  role: row.role,
  tenantId: row.tenant_id,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** Columns of `invitations` that callers may see: never `token_hash`. */
export const INVITATION_COLUMNS =
  'id, email, role, invited_by, created_at, expires_at, consumed_at, revoked_at';

export interface InvitationRow {
  id: string;
  email: string;
  role: string;
  invited_by: string;
  created_at: Date;
  expires_at: Date;
  consumed_at: Date | null;
  revoked_at: Date | null;
}

export const toInvitation = (row: InvitationRow): Invitation => ({
  id: row.id,
  email: row.email,
  role: row.role,
  invitedBy: row.invited_by,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  consumedAt: row.consumed_at,
  revokedAt: row.revoked_at,
});
