import { randomUUID } from 'node:crypto';
import { type Reservation, ReservationConflictError, type ReservationStore } from '@jit-provision/core';
import type { Executor } from './executor';
import { eventIdentity, outboxInsertCte } from './outbox';
import { guard, sqlState } from './pg-errors';
import { toUser, USER_COLUMNS, type UserRow } from './rows';
import { quoteSchema } from './schema-name';
import type { NameStatement } from './statement-name';
import { userValues } from './statements';

/**
 * The Postgres reservations for createUser mode (`store.reservations`): leases on the database clock, so
 * every process agrees on expiry, and `confirm` inserts the user in the statement that consumes the lease.
 */
export function createPostgresReservations(
  db: Executor,
  schema: string,
  named: NameStatement,
): ReservationStore {
  const s = quoteSchema(schema);
  const sql = {
    confirm: {
      ...named('confirm'),
      text: `WITH released AS (
               DELETE FROM ${s}.reservations WHERE issuer = $2 AND subject = $3 AND token = $11 RETURNING 1
             )
             INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role, tenant_id, role_source, external_id)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM released
             RETURNING ${USER_COLUMNS}`,
    },
    confirmWithEvent: {
      ...named('confirm_event'),
      text: `WITH released AS (
               DELETE FROM ${s}.reservations WHERE issuer = $2 AND subject = $3 AND token = $11 RETURNING 1
             ), inserted AS (
               INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role, tenant_id, role_source, external_id)
               SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM released
               RETURNING ${USER_COLUMNS}
             ), ${outboxInsertCte(schema, 'inserted', 12)}
             SELECT ${USER_COLUMNS} FROM inserted`,
    },
  } as const;

  return {
    reserve: (key, { leaseMs }) =>
      guard(async () => {
        // Insert, or take over a lease that ran out (its holder crashed); a live one is left alone.
        // The database clock decides expiry, so processes with skewed clocks still agree.
        const taken = await db.rows<{ token: string; expires_at: Date }>({
          ...named('reserve'),
          text: `INSERT INTO ${s}.reservations AS r (issuer, subject, token, expires_at)
                 VALUES ($1, $2, $3, now() + $4::double precision * interval '1 millisecond')
                 ON CONFLICT (issuer, subject) DO UPDATE
                   SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
                   WHERE r.expires_at <= now()
                 RETURNING token, expires_at`,
          values: [key.issuer, key.subject, randomUUID(), leaseMs],
        });
        const row = taken[0];
        if (row !== undefined) return { token: row.token, expiresAt: row.expires_at } satisfies Reservation;
        const held = await db.rows<{ expires_at: Date }>({
          text: `SELECT expires_at FROM ${s}.reservations WHERE issuer = $1 AND subject = $2`,
          values: [key.issuer, key.subject],
        });
        throw new ReservationConflictError(undefined, held[0]?.expires_at);
      }),

    confirm: (input, reservation, userId) =>
      guard(async () => {
        // One statement, so one transaction: the user row exists iff our reservation was deleted.
        const identity = eventIdentity(input);
        let rows: UserRow[];
        try {
          rows = await db.rows<UserRow>({
            ...(identity === null ? sql.confirm : sql.confirmWithEvent),
            values: [...userValues(userId, input), reservation.token, ...(identity ?? [])],
          });
        } catch (error) {
          if (sqlState(error) === '23505') {
            throw new ReservationConflictError('a user with this identity, id or username already exists');
          }
          throw error;
        }
        const row = rows[0];
        if (row === undefined) {
          throw new ReservationConflictError('the reservation is stale: another caller took it over');
        }
        return toUser(row);
      }),

    release: (key, reservation) =>
      guard(async () => {
        await db.rows({
          ...named('release'),
          text: `DELETE FROM ${s}.reservations WHERE issuer = $1 AND subject = $2 AND token = $3`,
          values: [key.issuer, key.subject, reservation.token],
        });
      }),
  };
}
