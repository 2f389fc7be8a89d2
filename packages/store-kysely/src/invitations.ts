import { InvalidRequestError, type InvitationStatus, type InvitationStore } from '@jit-provision/core';
import { type RawBuilder, sql } from 'kysely';
import { type Context, rows, transaction } from './context';
import { guard, isUniqueViolation } from './errors';
import { INVITATION_COLUMNS, type InvitationRow, toInvitation } from './rows';

/** The normalised email of a row: a stored column on MySQL (indexed there), an indexed expression elsewhere. */
const emailKey = (ctx: Context) => sql.raw(ctx.d.name === 'mysql' ? 'email_key' : 'lower(trim(email))');

function statusWhere(status: InvitationStatus, now: unknown): RawBuilder<unknown> {
  switch (status) {
    case 'pending':
      return sql`revoked_at IS NULL AND consumed_at IS NULL AND expires_at > ${now}`;
    case 'consumed':
      return sql`revoked_at IS NULL AND consumed_at IS NOT NULL`;
    case 'revoked':
      return sql`revoked_at IS NOT NULL`;
    case 'expired':
      return sql`revoked_at IS NULL AND consumed_at IS NULL AND expires_at <= ${now}`;
    default:
      throw new InvalidRequestError(`unknown invitation status: ${String(status)}`);
  }
}

/** The per-email lock name `createInvitation` and `unconsumeInvitation` share. */
const lockOf = (ctx: Context, email: string) => `${ctx.t.invitations}:${email.trim().toLowerCase()}`;

/** Undo a consume (its signup failed), unless the email was invited again since: under the email's lock. */
async function unconsume(ctx: Context, id: string, consumedAt: Date): Promise<boolean> {
  const { d, T, db } = ctx;
  const found = await rows<{ email: string }>(db, sql`SELECT email FROM ${T.invitations} WHERE id = ${id}`);
  const row = found[0];
  if (row === undefined) return false;
  const sameEmail = sql.raw(
    d.name === 'mysql' ? 'o.email_key = i.email_key' : 'lower(trim(o.email)) = lower(trim(i.email))',
  );
  return transaction(
    ctx,
    async (conn) => {
      const result = await sql`UPDATE ${T.invitations} SET consumed_at = NULL
        WHERE id = ${id} AND consumed_at = ${d.time(consumedAt)} AND revoked_at IS NULL`.execute(conn);
      if (Number(result.numAffectedRows ?? 0) === 0) return false;
      // A re-invite since this one replaced it: undo the undo (the transaction sees it under the lock).
      const newer = await rows(
        conn,
        sql`SELECT 1 AS one FROM ${T.invitations} o, ${T.invitations} i
            WHERE i.id = ${id} AND o.id <> i.id AND ${sameEmail} AND o.created_at >= i.created_at`,
      );
      if (newer.length > 0) {
        await sql`UPDATE ${T.invitations} SET consumed_at = ${d.time(consumedAt)} WHERE id = ${id}`.execute(
          conn,
        );
        return false;
      }
      return true;
    },
    lockOf(ctx, row.email),
  );
}

/**
 * Invitations: only the token's HMAC is stored. Creating one revokes the email's pending one in the same
 * transaction under a per-email lock; consuming is one conditional UPDATE, so exactly one racer wins.
 */
export function createInvitations(ctx: Context): InvitationStore {
  const { d, T, db } = ctx;
  const select = d.select(INVITATION_COLUMNS);
  const byId = async (conn: typeof db, id: string) =>
    (await rows<InvitationRow>(conn, sql`SELECT ${select} FROM ${T.invitations} WHERE id = ${id}`))[0];
  const one = (row: InvitationRow | undefined) => (row === undefined ? null : toInvitation(d, row));
  return {
    createInvitation: (input) =>
      guard(async () => {
        const created = await transaction(
          ctx,
          async (conn) => {
            await sql`UPDATE ${T.invitations} SET revoked_at = ${d.now}
                      WHERE ${emailKey(ctx)} = ${input.email.trim().toLowerCase()}
                        AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > ${d.now}`.execute(
              conn,
            );
            try {
              await sql`INSERT INTO ${T.invitations} (id, token_hash, email, role, invited_by, expires_at, created_at)
                        VALUES (${input.id}, ${input.tokenHash}, ${input.email}, ${input.role}, ${input.invitedBy},
                                ${d.time(input.expiresAt)}, ${d.now})`.execute(conn);
            } catch (error) {
              if (isUniqueViolation(error))
                throw new InvalidRequestError('an invitation with this id or token already exists');
              throw error;
            }
            return byId(conn, input.id);
          },
          lockOf(ctx, input.email),
        );
        return toInvitation(d, created as InvitationRow);
      }),

    findInvitation: (hashes) =>
      guard(async () => {
        if (hashes.length === 0) return null;
        return one(
          (
            await rows<InvitationRow>(
              db,
              sql`SELECT ${select} FROM ${T.invitations} WHERE token_hash IN (${sql.join([...hashes])}) LIMIT 1`,
            )
          )[0],
        );
      }),

    findPendingInvitationByEmail: (email, now) =>
      guard(async () =>
        one(
          (
            await rows<InvitationRow>(
              db,
              sql`SELECT ${select} FROM ${T.invitations}
                  WHERE ${emailKey(ctx)} = ${email.trim().toLowerCase()} AND ${statusWhere('pending', d.time(now))}
                  ORDER BY created_at DESC LIMIT 1`,
            )
          )[0],
        ),
      ),

    consumeInvitation: (id, now) =>
      guard(async () => {
        // One conditional UPDATE: the row lock decides which racer matched it.
        const result = await sql`UPDATE ${T.invitations} SET consumed_at = ${d.time(now)}
          WHERE id = ${id} AND ${statusWhere('pending', d.time(now))}`.execute(db);
        if (Number(result.numAffectedRows ?? 0) === 0) return null;
        return one(await byId(db, id));
      }),

    unconsumeInvitation: (id, consumedAt) => guard(() => unconsume(ctx, id, consumedAt)),

    revokeInvitation: (id, { soft }) =>
      guard(async () => {
        const result = soft
          ? await sql`UPDATE ${T.invitations} SET revoked_at = COALESCE(revoked_at, ${d.now}) WHERE id = ${id}`.execute(
              db,
            )
          : await sql`DELETE FROM ${T.invitations} WHERE id = ${id}`.execute(db);
        return Number(result.numAffectedRows ?? 0) > 0;
      }),

    purgeInvitations: (before) =>
      guard(async () => {
        const b = d.time(before);
        const result = await sql`DELETE FROM ${T.invitations}
          WHERE expires_at < ${b} OR consumed_at < ${b} OR revoked_at < ${b}`.execute(db);
        return Number(result.numAffectedRows ?? 0);
      }),

    listInvitations: ({ status, now }) =>
      guard(async () => {
        const where = status === undefined ? sql`1 = 1` : statusWhere(status, d.time(now));
        const found = await rows<InvitationRow>(
          db,
          sql`SELECT ${select} FROM ${T.invitations} WHERE ${where} ORDER BY created_at, id`,
        );
        return found.map((r) => toInvitation(d, r));
      }),
  };
}
