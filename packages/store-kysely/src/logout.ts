import type { LogoutStore, RevokedSession } from '@jit-provision/core';
import { type RawBuilder, sql } from 'kysely';
import { affected, type Context, rows, transaction } from './context';
import { guard, isRetryable, isUniqueViolation } from './errors';

/** How often `claimJti` also deletes expired rows (per store), ms. */
const PURGE_EVERY_MS = 300_000;

/** `WHERE` on (issuer, `column`): MySQL compares the hashed key first (see the 0002 migration). */
function keyIs(ctx: Context, column: 'jti' | 'sid', issuer: string, value: string): RawBuilder<unknown> {
  const col = sql.raw(column);
  if (ctx.d.name === 'mysql')
    return sql`${sql.raw(`${column}_key`)} = UNHEX(SHA2(CONCAT(${issuer}, CHAR(0), ${value}), 256)) AND issuer = ${issuer} AND ${col} = ${value}`;
  return sql`issuer = ${issuer} AND ${col} = ${value}`;
}

/**
 * Remember a jti; true when this call took it. Postgres and SQLite: one `INSERT … ON CONFLICT DO UPDATE …
 * WHERE expired RETURNING`. MySQL has no RETURNING and its affected-rows count cannot tell an insert from a
 * no-op update (mysql2 counts found rows), so: a plain INSERT (losers of a race get a duplicate key once the
 * winner commits), and on a duplicate, an UPDATE that takes over the row only if it has expired (the row
 * lock serialises racing takeovers; the second finds it no longer expired).
 */
async function claim(ctx: Context, issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
  const { d, T } = ctx;
  const at = d.time(expiresAt);
  if (d.name !== 'mysql') {
    const target = d.name === 'postgres' ? sql`j.expires_at` : sql`${T.logoutJtis}.expires_at`;
    const alias = d.name === 'postgres' ? sql` AS j` : sql``;
    const won = await rows(
      ctx.db,
      sql`INSERT INTO ${T.logoutJtis}${alias} (issuer, jti, expires_at) VALUES (${issuer}, ${jti}, ${at})
          ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE ${target} <= ${d.now}
          RETURNING 1 AS one`,
    );
    return won.length === 1;
  }
  try {
    await sql`INSERT INTO ${T.logoutJtis} (issuer, jti, expires_at) VALUES (${issuer}, ${jti}, ${at})`.execute(
      ctx.db,
    );
    return true;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
  const taken = await affected(
    ctx.db,
    sql`UPDATE ${T.logoutJtis} SET expires_at = ${at}
        WHERE ${keyIs(ctx, 'jti', issuer, jti)} AND expires_at <= ${d.now}`,
  );
  return taken === 1;
}

/**
 * Revoke a session and, in the same transaction, write it to the change log (`sid`, the expiry that won),
 * so every process's feed reader reports it to `onSessionRevoked`.
 */
async function revoke(ctx: Context, issuer: string, sid: string, expiresAt: Date): Promise<void> {
  const { d, T } = ctx;
  const at = d.time(expiresAt);
  const upsert =
    d.name === 'mysql'
      ? sql`INSERT INTO ${T.revokedSessions} (issuer, sid, expires_at) VALUES (${issuer}, ${sid}, ${at})
            ON DUPLICATE KEY UPDATE expires_at = GREATEST(expires_at, VALUES(expires_at))`
      : d.name === 'postgres'
        ? sql`INSERT INTO ${T.revokedSessions} AS r (issuer, sid, expires_at) VALUES (${issuer}, ${sid}, ${at})
              ON CONFLICT (issuer, sid) DO UPDATE SET expires_at = GREATEST(r.expires_at, excluded.expires_at)`
        : // ISO-8601 texts of one width order as the instants they name.
          sql`INSERT INTO ${T.revokedSessions} (issuer, sid, expires_at) VALUES (${issuer}, ${sid}, ${at})
              ON CONFLICT (issuer, sid) DO UPDATE
              SET expires_at = MAX(${T.revokedSessions}.expires_at, excluded.expires_at)`;
  await transaction(ctx, async (conn) => {
    await upsert.execute(conn);
    await sql`INSERT INTO ${T.changes} (user_id, issuer, subject, sid, expires_at, changed_at)
              SELECT '', issuer, '', sid, expires_at, ${d.now} FROM ${T.revokedSessions}
              WHERE ${keyIs(ctx, 'sid', issuer, sid)}`.execute(conn);
  });
}

/**
 * The Kysely {@link LogoutStore}: a logout token's `jti` claimed once among racing callers in every process,
 * revoked sessions by `sid` with an expiry, purged once expired, and reported through the polled change feed.
 */
export function createLogout(ctx: Context): LogoutStore {
  const { d, T, db } = ctx;
  let purgedAt = Date.now();

  const purgeExpired = () =>
    guard(async () => {
      const jtis = await affected(db, sql`DELETE FROM ${T.logoutJtis} WHERE expires_at <= ${d.now}`);
      const sids = await affected(db, sql`DELETE FROM ${T.revokedSessions} WHERE expires_at <= ${d.now}`);
      return jtis + sids;
    });

  return {
    claimJti: (issuer, jti, expiresAt) =>
      guard(async () => {
        let won: boolean;
        for (let attempt = 1; ; attempt++) {
          try {
            won = await claim(ctx, issuer, jti, expiresAt);
            break;
          } catch (error) {
            // A deadlock between racing claims aborts one statement: it is safe to run again.
            if (!isRetryable(error) || attempt >= 5) throw error;
          }
        }
        if (Date.now() - purgedAt > PURGE_EVERY_MS) {
          purgedAt = Date.now();
          // Housekeeping only: a failure here must not fail the logout.
          await purgeExpired().catch(() => {});
        }
        return won;
      }),
    revokeSid: (issuer, sid, expiresAt) => guard(() => revoke(ctx, issuer, sid, expiresAt)),
    isSidRevoked: (issuer, sid) =>
      guard(async () => {
        const found = await rows(
          db,
          sql`SELECT 1 AS one FROM ${T.revokedSessions}
              WHERE ${keyIs(ctx, 'sid', issuer, sid)} AND expires_at > ${d.now}`,
        );
        return found.length > 0;
      }),
    revokedSids: (limit) =>
      guard(async () => {
        const found = await rows<{ issuer: string; sid: string; expires_at: unknown }>(
          db,
          sql`SELECT ${d.select('issuer, sid, expires_at')} FROM ${T.revokedSessions}
              WHERE expires_at > ${d.now} LIMIT ${limit + 1}`,
        );
        return found.map(
          (r): RevokedSession => ({ issuer: r.issuer, sid: r.sid, expiresAt: d.readTime(r.expires_at) }),
        );
      }),
    purgeExpired,
  };
}
