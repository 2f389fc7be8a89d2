import type { UserRecord } from '../types';
import type { NewUser, StoreKey } from './users';

/** A pending claim on an identity in createUser mode. `token` identifies the holder; a takeover changes it. */
export interface Reservation {
  token: string;
  expiresAt: Date;
}

/**
 * Reservations of identities, for createUser mode: reserve → the app creates the user → confirm.
 * Prove an implementation with the reservation tests of `runStoreConformance`.
 */
export interface ReservationStore {
  /**
   * Claim an identity for `leaseMs`. Raises `ReservationConflictError` while another live reservation
   * holds it; an expired one is taken over atomically (its token changes).
   */
  reserve(key: StoreKey, options: { leaseMs: number }): Promise<Reservation>;
  /**
   * Create the user row with the app's `userId` and drop the reservation, atomically.
   * Raises `ReservationConflictError` when `reservation` is no longer the current one (stale).
   */
  confirm(input: NewUser, reservation: Reservation, userId: string): Promise<UserRecord>;
  /** Drop the reservation if it is still ours; a no-op otherwise. */
  release(key: StoreKey, reservation: Reservation): Promise<void>;
}
