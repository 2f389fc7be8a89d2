import { randomUUID } from 'node:crypto';
import { type Reservation, ReservationConflictError, type ReservationStore } from '@jit-provision/core';
import { userKey as keyOf } from '@jit-provision/core/adapter';
import { copy, type UserTable } from './table';

/** createUser mode's reservations, and the store's way to drop them all. */
export interface MemoryReservations {
  readonly store: ReservationStore;
  clear(): void;
}

/**
 * Leases on this process's clock. `confirm` checks the lease and inserts the user in one synchronous step,
 * so the user exists iff the reservation it consumed was still ours.
 */
export function createMemoryReservations(table: UserTable): MemoryReservations {
  const reservations = new Map<string, Reservation>();

  const live = (key: string, now: number) => {
    const held = reservations.get(key);
    return held !== undefined && held.expiresAt.getTime() > now ? held : undefined;
  };

  const store: ReservationStore = {
    async reserve(key, { leaseMs }) {
      const k = keyOf(key);
      const now = Date.now();
      const held = live(k, now);
      if (held !== undefined) throw new ReservationConflictError(undefined, new Date(held.expiresAt));
      const reservation: Reservation = { token: randomUUID(), expiresAt: new Date(now + leaseMs) };
      reservations.set(k, reservation);
      return { ...reservation };
    },

    async confirm(input, reservation, userId) {
      const k = keyOf(input);
      if (reservations.get(k)?.token !== reservation.token) {
        throw new ReservationConflictError('the reservation is stale: another caller took it over');
      }
      if (table.byKey.has(k)) throw new ReservationConflictError('a user already exists for this identity');
      const user = table.insert(input, userId);
      reservations.delete(k);
      return copy(user);
    },

    async release(key, reservation) {
      const k = keyOf(key);
      if (reservations.get(k)?.token === reservation.token) reservations.delete(k);
    },
  };
  return { store, clear: () => reservations.clear() };
}
