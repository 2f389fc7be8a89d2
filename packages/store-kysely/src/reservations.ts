import { randomUUID } from 'node:crypto';
import { type Reservation, ReservationConflictError, type ReservationStore } from '@jit-provision/core';
import { sql } from 'kysely';
import { type Context, identityIs, rows, transaction } from './context';
import { guard, isUniqueViolation } from './errors';
import { toUser } from './rows';
import { insertUser, provisionedEvent, userById } from './users';

/**
 * Reservations for createUser mode: leases on the database clock, so every process agrees on expiry;
 * `confirm` deletes the lease and inserts the user in one transaction.
 */
export function createReservations(ctx: Context): ReservationStore {
  const { d, T, db } = ctx;
  return {
    reserve: (key, { leaseMs }) =>
      guard(async () => {
        const heldUntil = () =>
          rows<{ expires_at: unknown }>(
            db,
            sql`SELECT ${d.select('expires_at')} FROM ${T.reservations} WHERE ${identityIs(ctx, key.issuer, key.subject)}`,
          ).then((r) => (r[0] === undefined ? undefined : d.readTime(r[0].expires_at)));
        const token = randomUUID();
        const taken = await transaction(ctx, async (conn) => {
          // A lease that ran out (its holder crashed) is taken over; a live one is a conflict.
          await sql`DELETE FROM ${T.reservations} WHERE ${identityIs(ctx, key.issuer, key.subject)}
                    AND expires_at <= ${d.now}`.execute(conn);
          try {
            await sql`INSERT INTO ${T.reservations} (issuer, subject, token, expires_at)
                      VALUES (${key.issuer}, ${key.subject}, ${token}, ${d.later(leaseMs)})`.execute(conn);
          } catch (error) {
            // Postgres aborts the transaction on the violation: the holder's lease is read after it.
            if (isUniqueViolation(error)) return false;
            throw error;
          }
          return true;
        });
        if (!taken) throw new ReservationConflictError(undefined, await heldUntil());
        const expiresAt = await heldUntil();
        return { token, expiresAt: expiresAt ?? new Date(Date.now() + leaseMs) } satisfies Reservation;
      }),

    confirm: (input, reservation, userId) =>
      guard(() =>
        transaction(ctx, async (conn) => {
          const released = await sql`DELETE FROM ${T.reservations}
            WHERE ${identityIs(ctx, input.issuer, input.subject)} AND token = ${reservation.token}`.execute(
            conn,
          );
          if (Number(released.numAffectedRows ?? 0) === 0)
            throw new ReservationConflictError('the reservation is stale: another caller took it over');
          try {
            await insertUser(ctx, userId, input, false).execute(conn);
          } catch (error) {
            if (isUniqueViolation(error))
              throw new ReservationConflictError('a user with this identity, id or username already exists');
            throw error;
          }
          await provisionedEvent(ctx, conn, input, userId);
          const row = await userById(ctx, conn, userId);
          if (row === undefined) throw new ReservationConflictError('the confirmed user is gone');
          return toUser(d, row);
        }),
      ),

    release: (key, reservation) =>
      guard(async () => {
        await sql`DELETE FROM ${T.reservations}
                  WHERE ${identityIs(ctx, key.issuer, key.subject)} AND token = ${reservation.token}`.execute(
          db,
        );
      }),
  };
}
