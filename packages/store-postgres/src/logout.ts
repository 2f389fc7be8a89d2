import type { LogoutStore, RevokedSession } from '@jit-provision/core';
import { changesChannel } from './changes';
import type { Executor } from './executor';
import { guard } from './pg-errors';
import { quoteSchema } from './schema-name';
import type { NameStatement } from './statement-name';

/** How often `claimJti` also deletes expired rows (per store), ms. */
const PURGE_EVERY_MS = 300_000;

/**
 * The Postgres {@link LogoutStore}: `claimJti` is one INSERT … ON CONFLICT (first wins in every process, an
 * expired row is taken over), `revokeSid` one statement that upserts the session and NOTIFYs the change
 * feed's channel in the same transaction, so every process's provisioner hears it on commit.
 */
export function createPostgresLogoutStore(db: Executor, schema: string, named: NameStatement): LogoutStore {
  const s = quoteSchema(schema);
  const channel = changesChannel(schema);
  let purgedAt = Date.now();

  const purgeExpired = () =>
    guard(async () => {
      const rows = await db.rows<{ n: string }>({
        text: `WITH j AS (DELETE FROM ${s}.logout_jtis WHERE expires_at <= now() RETURNING 1),
                    r AS (DELETE FROM ${s}.revoked_sessions WHERE expires_at <= now() RETURNING 1)
               SELECT (SELECT count(*) FROM j) + (SELECT count(*) FROM r) AS n`,
      });
      return Number(rows[0]?.n ?? 0);
    });

  return {
    claimJti: (issuer, jti, expiresAt) =>
      guard(async () => {
        const rows = await db.rows({
          ...named('claim_jti'),
          text: `INSERT INTO ${s}.logout_jtis AS j (issuer, jti, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
                   WHERE j.expires_at <= now()
                 RETURNING 1`,
          values: [issuer, jti, expiresAt],
        });
        if (Date.now() - purgedAt > PURGE_EVERY_MS) {
          purgedAt = Date.now();
          // Housekeeping only: a failure here must not fail the logout.
          await purgeExpired().catch(() => {});
        }
        return rows.length === 1;
      }),
    revokeSid: (issuer, sid, expiresAt) =>
      guard(async () => {
        await db.rows({
          ...named('revoke_sid'),
          text: `WITH up AS (
                   INSERT INTO ${s}.revoked_sessions AS r (issuer, sid, expires_at) VALUES ($1, $2, $3)
                   ON CONFLICT (issuer, sid) DO UPDATE SET expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at)
                   RETURNING issuer, sid, expires_at
                 )
                 SELECT pg_notify($4, json_build_object(
                   'kind', 'sid', 'issuer', issuer, 'sid', sid,
                   'expiresAt', floor(extract(epoch FROM expires_at) * 1000)
                 )::text) FROM up`,
          values: [issuer, sid, expiresAt, channel],
        });
      }),
    isSidRevoked: (issuer, sid) =>
      guard(async () => {
        const rows = await db.rows(
          {
            ...named('sid_revoked'),
            text: `SELECT 1 FROM ${s}.revoked_sessions WHERE issuer = $1 AND sid = $2 AND expires_at > now()`,
            values: [issuer, sid],
          },
          { retry: true },
        );
        return rows.length > 0;
      }),
    revokedSids: (limit) =>
      guard(async () => {
        const rows = await db.rows<{ issuer: string; sid: string; expires_at: Date }>(
          {
            text: `SELECT issuer, sid, expires_at FROM ${s}.revoked_sessions WHERE expires_at > now() LIMIT $1`,
            values: [limit + 1],
          },
          { retry: true },
        );
        return rows.map(
          (row): RevokedSession => ({ issuer: row.issuer, sid: row.sid, expiresAt: row.expires_at }),
        );
      }),
    purgeExpired,
  };
}
