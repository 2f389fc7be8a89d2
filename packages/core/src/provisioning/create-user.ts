import { ConfigurationError, isJitProvisionError } from '../errors';
import { sleep } from '../internal';
import type { NewUser, Reservation, ReservationStore, Store } from '../store';
import type { Identity, Logger, UserRecord } from '../types';

/** What a creation answers: the row, and whether this call created it. */
export interface Outcome {
  user: UserRecord;
  created: boolean;
}

/** Options of {@link createViaApp}. */
export interface CreateViaAppOptions {
  store: Pick<Store, 'lookup'>;
  reservations: ReservationStore;
  create: (identity: Identity) => Promise<string>;
  leaseMs: number;
  waitMs: number;
  logger: Logger;
}

/**
 * createUser mode: reserve → the app's createUser → confirm (release on error). Racers that lose the
 * reservation wait, bounded by `waitMs` with jittered backoff, for the winner's row.
 */
export function createViaApp(
  options: CreateViaAppOptions,
): (input: NewUser, identity: Identity) => Promise<Outcome> {
  const { store, reservations, create, leaseMs, waitMs, logger } = options;
  return async (input, identity) => {
    const deadline = Date.now() + waitMs;
    let backoff = 10;
    for (;;) {
      let reservation: Reservation;
      try {
        reservation = await reservations.reserve(input, { leaseMs });
      } catch (err) {
        // By code, not class: the store may throw from another copy of core (an ESM app with a CJS store).
        if (!isJitProvisionError(err, 'reservation_conflict')) throw err;
        const winner = await store.lookup(input);
        if (winner !== null) return { user: winner, created: false };
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw err;
        await sleep(Math.min(remaining, backoff * (0.5 + Math.random())));
        backoff = Math.min(backoff * 2, 250);
        continue;
      }
      try {
        // A holder whose lease we just took over may have confirmed in between.
        const existing = await store.lookup(input);
        if (existing !== null) {
          await reservations.release(input, reservation);
          return { user: existing, created: false };
        }
        const userId = await create(identity);
        if (typeof userId !== 'string' || userId.length === 0 || userId.length > 255) {
          throw new ConfigurationError('createUser must resolve to a non-empty user id string (≤ 255 chars)');
        }
        return { user: await reservations.confirm(input, reservation, userId), created: true };
      } catch (err) {
        await reservations.release(input, reservation).catch((releaseError: unknown) => {
          logger.warn(
            { err: releaseError, issuer: input.issuer },
            'releasing a reservation failed; its lease will expire',
          );
        });
        throw err;
      }
    }
  };
}
