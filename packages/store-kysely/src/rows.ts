import type {
  Identity,
  Invitation,
  OutboxEvent,
  OutboxStatus,
  RoleSource,
  UserEventType,
  UserRecord,
  UserStatus,
} from '@jit-provision/core';
import type { Sql } from './dialect';

export const USER_COLUMNS =
  'id, issuer, subject, username, email, name, role, role_source, tenant_id, external_id, status, disabled_at, tokens_valid_after, last_seen_at, created_at, updated_at';

export interface UserRow {
  id: string;
  issuer: string;
  /** NULL while a SCIM-created row waits for its first login (decision 0008). */
  subject: string | null;
  username: string;
  email: string | null;
  name: string | null;
  role: string;
  role_source: RoleSource;
  tenant_id: string | null;
  external_id: string | null;
  status: UserStatus;
  disabled_at: unknown;
  tokens_valid_after: unknown;
  last_seen_at: unknown;
  created_at: unknown;
  updated_at: unknown;
}

const maybe = (d: Sql, v: unknown) => (v === null || v === undefined ? null : d.readTime(v));

export const toUser = (d: Sql, r: UserRow): UserRecord => ({
  id: r.id,
  issuer: r.issuer,
  // An unbound row has no subject; '' is what no token can carry, so no lookup ever finds it.
  subject: r.subject ?? '',
  username: r.username,
  email: r.email,
  name: r.name,
  role: r.role,
  roleSource: r.role_source,
  tenantId: r.tenant_id,
  externalId: r.external_id,
  createdAt: d.readTime(r.created_at),
  updatedAt: d.readTime(r.updated_at),
  status: r.status,
  disabledAt: maybe(d, r.disabled_at),
  tokensValidAfter: maybe(d, r.tokens_valid_after),
  lastSeenAt: maybe(d, r.last_seen_at),
});

export const INVITATION_COLUMNS =
  'id, email, role, invited_by, created_at, expires_at, consumed_at, revoked_at';

export interface InvitationRow {
  id: string;
  email: string;
  role: string;
  invited_by: string;
  created_at: unknown;
  expires_at: unknown;
  consumed_at: unknown;
  revoked_at: unknown;
}

export const toInvitation = (d: Sql, r: InvitationRow): Invitation => ({
  id: r.id,
  email: r.email,
  role: r.role,
  invitedBy: r.invited_by,
  createdAt: d.readTime(r.created_at),
  expiresAt: d.readTime(r.expires_at),
  consumedAt: maybe(d, r.consumed_at),
  revokedAt: maybe(d, r.revoked_at),
});

export const OUTBOX_COLUMNS =
  'id, type, user_id, identity, actor, data, status, attempts, last_error, available_at, created_at, completed_at';

export interface OutboxRow {
  id: string;
  type: UserEventType;
  user_id: string;
  identity: string | Identity;
  actor: string | null;
  data: string | Record<string, unknown> | null;
  status: OutboxStatus;
  attempts: number | string;
  last_error: string | null;
  available_at: unknown;
  created_at: unknown;
  completed_at: unknown;
}

const json = <T>(v: string | T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

export const toEvent = (d: Sql, r: OutboxRow): OutboxEvent => ({
  id: r.id,
  type: r.type,
  userId: r.user_id,
  identity: json<Identity>(r.identity),
  actor: r.actor,
  data: r.data === null ? null : json<Record<string, unknown>>(r.data),
  status: r.status,
  attempts: Number(r.attempts),
  lastError: r.last_error,
  availableAt: d.readTime(r.available_at),
  createdAt: d.readTime(r.created_at),
  completedAt: maybe(d, r.completed_at),
});
