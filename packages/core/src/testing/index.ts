import { describe } from 'vitest';
import type { Store } from '../store';
import { runInvitationConformance } from './invitations';
import type { StoreConformanceOptions } from './options';
import { outboxCases } from './outbox';
import { reservationCases } from './reservations';
import { userCases } from './users';

export * from './adapter-suite';
export * from './hostile';
export { runInvitationConformance } from './invitations';
export * from './kratos';
export type { ConformanceOptions, StoreConformanceOptions } from './options';

/**
 * The vitest suite every Store runs: users (round trip, created once, email sync, 100-caller races),
 * reservations (conflict, release, expired-lease takeover, stale confirm) and, when the store has
 * `invitations`, single-use invitations; when it has `outbox`, events written only on create, claim/complete/
 * fail/retry, concurrent claimers never sharing an event, and delivery through the dispatcher. Races are real: parallel calls through several provisioners.
 *
 * @example
 * ```ts
 * // my-store.test.ts
 * import { runStoreConformance } from '@jit-provision/core/testing';
 * import { createMyStore } from './my-store';
 *
 * runStoreConformance({ name: 'my-store', createStore: () => createMyStore(), cleanup: (s) => s.close() });
 * ```
 */
export function runStoreConformance<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe(`Store conformance: ${options.name}`, () => {
    userCases(options);
    reservationCases(options);
    runInvitationConformance({
      createStore: options.createStore,
      ...(options.cleanup ? { cleanup: options.cleanup } : {}),
    });
    outboxCases(options);
  });
}
