import {
  InvalidRequestError,
  type Invitation,
  type InvitationStatus,
  type InvitationStore,
  type NewInvitation,
} from '@jit-provision/core';
import type { Executor } from './executor';
import { guard, sqlState } from './pg-errors';
import { INVITATION_COLUMNS, type InvitationRow, toInvitation } from './rows';
import { quoteSchema } from './schema-name';
import { statementName } from './statement-name';

// Fixed SQL per status; `$1` is the caller's `now`.
const STATUS_WHERE: Record<InvitationStatus, string> = {
  pending: 'revoked_at IS NULL AND consumed_at IS NULL AND expires_at > $1',
  consumed: 'revoked_at IS NULL AND consumed_at IS NOT NULL',
  revoked: 'revoked_at IS NOT NULL',
  expired: 'revoked_at IS NULL AND consumed_at IS NULL AND expires_at <= $1',
};

const NORMALISED_EMAIL = 'lower(btrim(email))';

/** Revoke the email's pending invitation and insert the new one, in one transaction under the email's lock. */
function insertInvitation(db: Executor, schema: string, input: NewInvitation): Promise<Invitation> {
  const s = quoteSchema(schema);
  return db.transaction(async (client) => {
    await client.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('jit-provision:invitation:' || $2::text || ':' || lower(btrim($1::text)), 0))`,
      [input.email, schema],
    );
    // The replaced invitation's token must stop working the moment the new one exists.
    await client.query(
      `UPDATE ${s}.invitations SET revoked_at = now()
             WHERE ${NORMALISED_EMAIL} = lower(btrim($1))
               AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > now()`,
      [input.email],
    );
    try {
      const inserted = await client.query<InvitationRow>(
        `INSERT INTO ${s}.invitations (id, token_hash, email, role, invited_by, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               RETURNING ${INVITATION_COLUMNS}`,
        [input.id, input.tokenHash, input.email, input.role, input.invitedBy, input.expiresAt],
      );
      return toInvitation(inserted.rows[0] as InvitationRow);
    } catch (error) {
      if (sqlState(error) === '23505') {
        throw new InvalidRequestError('an invitation with this id or token already exists');
      }
      throw error;
    }
  });
}

/** Undo a consume (its signup failed), unless the email was invited again since. */
function unconsume(db: Executor, schema: string, id: string, consumedAt: Date): Promise<boolean> {
  const s = quoteSchema(schema);
  return db.transaction(async (client) => {
    // The lock createInvitation takes: a re-invite either committed before (and is seen below) or
    // waits, then finds this invitation pending and revokes it. Never both pending.
    await client.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('jit-provision:invitation:' || $2::text || ':' || ${NORMALISED_EMAIL}, 0))
             FROM ${s}.invitations WHERE id = $1`,
      [id, schema],
    );
    const undone = await client.query(
      `UPDATE ${s}.invitations i SET consumed_at = NULL
             WHERE i.id = $1 AND i.consumed_at = $2 AND i.revoked_at IS NULL
               AND NOT EXISTS (
                 SELECT 1 FROM ${s}.invitations o
                 WHERE lower(btrim(o.email)) = lower(btrim(i.email)) AND o.id <> i.id AND o.created_at >= i.created_at
               )
             RETURNING 1`,
      [id, consumedAt],
    );
    return (undone.rowCount ?? 0) > 0;
  });
}

/**
 * The Postgres {@link InvitationStore} behind `createPostgresStore(...).invitations`. Stores only the
 * token's HMAC. Creating an invitation revokes the email's pending one in the same transaction, under a
 * per-email advisory lock so two concurrent creations cannot both stay pending; consuming is one
 * conditional UPDATE, so exactly one of any number of racing consumers wins.
 *
 * @example
 * ```ts
 * import { createInvitationService } from '@jit-provision/core';
 * const store = createPostgresStore({ pool });
 * const invitations = createInvitationService({ store, secret: process.env.INVITATION_SECRET });
 * ```
 */
export function createPostgresInvitationStore(db: Executor, schema: string): InvitationStore {
  const s = quoteSchema(schema);
  const one = (rows: InvitationRow[]) => (rows[0] === undefined ? null : toInvitation(rows[0]));

  return {
    createInvitation: (input: NewInvitation) => guard(() => insertInvitation(db, schema, input)),

    findInvitation: (tokenHashes) =>
      guard(async () => {
        if (tokenHashes.length === 0) return null;
        return one(
          await db.rows<InvitationRow>(
            {
              name: statementName('find_invitation', schema),
              text: `SELECT ${INVITATION_COLUMNS} FROM ${s}.invitations WHERE token_hash = ANY($1::text[]) LIMIT 1`,
              values: [[...tokenHashes]],
            },
            { retry: true },
          ),
        );
      }),

    findPendingInvitationByEmail: (email, now) =>
      guard(async () =>
        one(
          await db.rows<InvitationRow>(
            {
              name: statementName('pending_invitation', schema),
              text: `SELECT ${INVITATION_COLUMNS} FROM ${s}.invitations
                     WHERE ${NORMALISED_EMAIL} = lower(btrim($2)) AND ${STATUS_WHERE.pending}
                     ORDER BY created_at DESC LIMIT 1`,
              values: [now, email],
            },
            { retry: true },
          ),
        ),
      ),

    consumeInvitation: (id, now) =>
      guard(async () =>
        one(
          await db.rows<InvitationRow>({
            name: statementName('consume_invitation', schema),
            text: `UPDATE ${s}.invitations SET consumed_at = $1
                   WHERE id = $2 AND ${STATUS_WHERE.pending}
                   RETURNING ${INVITATION_COLUMNS}`,
            values: [now, id],
          }),
        ),
      ),

    unconsumeInvitation: (id, consumedAt) => guard(() => unconsume(db, schema, id, consumedAt)),

    revokeInvitation: (id, { soft }) =>
      guard(async () => {
        const rows = await db.rows({
          text: soft
            ? `UPDATE ${s}.invitations SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING 1`
            : `DELETE FROM ${s}.invitations WHERE id = $1 RETURNING 1`,
          values: [id],
        });
        return rows.length > 0;
      }),

    purgeInvitations: (before) =>
      guard(async () => {
        const rows = await db.rows<{ n: number }>({
          text: `WITH purged AS (
                   DELETE FROM ${s}.invitations
                   WHERE expires_at < $1 OR consumed_at < $1 OR revoked_at < $1
                   RETURNING 1
                 )
                 SELECT count(*)::int AS n FROM purged`,
          values: [before],
        });
        return rows[0]?.n ?? 0;
      }),

    listInvitations: ({ status, now }) =>
      guard(async () => {
        const where = status === undefined ? 'true' : STATUS_WHERE[status];
        if (where === undefined)
          throw new InvalidRequestError(`unknown invitation status: ${String(status)}`);
        const rows = await db.rows<InvitationRow>(
          {
            text: `SELECT ${INVITATION_COLUMNS} FROM ${s}.invitations WHERE ${where} ORDER BY created_at, id`,
            // Only the pending/expired conditions read `now`; a surplus parameter is a protocol error.
            values: where.includes('$1') ? [now] : [],
          },
          { retry: true },
        );
        return rows.map(toInvitation);
      }),
  };
}
