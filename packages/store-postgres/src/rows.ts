import type { Invitation, RoleSource, UserRecord, UserStatus } from '@jit-provision/core';

/** Columns of `users`, in the order `toUser` reads them. */
export const USER_COLUMNS =
  'id, issuer, subject, username, email, name, role, tenant_id, created_at, updated_at, status, disabled_at, tokens_valid_after, last_seen_at, role_source, external_id';

/** {@link USER_COLUMNS} qualified by a table alias, for statements that join `users` with itself. */
export const userColumnsOf = (alias: string): string =>
  USER_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');

export interface UserRow {
  id: string;
  issuer: string;
  /** NULL for a row SCIM created before its first login (unbound, decision 0008). */
  subject: string | null;
  username: string;
  email: string | null;
  name: string | null;
  role: string;
  tenant_id: string | null;
  created_at: Date;
  updated_at: Date;
  status: UserStatus;
  disabled_at: Date | null;
  tokens_valid_after: Date | null;
  last_seen_at: Date | null;
  role_source: RoleSource;
  external_id: string | null;
}

export const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  issuer: row.issuer,
  // An unbound row has no subject; '' is what no token can carry, so no lookup ever finds it.
  subject: row.subject ?? '',
  username: row.username,
  email: row.email,
  name: row.name,
  role: row.role,
  roleSource: row.role_source,
  tenantId: row.tenant_id,
  externalId: row.external_id,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  status: row.status,
  disabledAt: row.disabled_at,
  tokensValidAfter: row.tokens_valid_after,
  lastSeenAt: row.last_seen_at,
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
