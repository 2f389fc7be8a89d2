import type { Store } from '@jit-provision/core';
import { describe } from 'vitest';
import { changeFeedCases } from './changes';
import { edgeCases } from './edges';
import { runInvitationConformance } from './invitations';
import { logoutCases } from './logout';
import type { StoreConformanceOptions } from './options';
import { outageCases } from './outage';
import { outboxCases } from './outbox';
import { reservationCases } from './reservations';
import { roleSyncCases } from './role-sync';
import { scimCases } from './scim';
import { userCases } from './users';
import { userLifecycleCases } from './users-lifecycle';

/**
 * The vitest suite every Store runs: users (round trip, created once, email sync, 100-caller races), edges
 * (case-distinct subjects and emails, username collisions, the longest values in 4-byte characters, unknown
 * ids, confirm on an existing row), reservations (conflict, release, expired-lease takeover, stale confirm)
 * and, when the store has `invitations`, single-use invitations; when it has `outbox`, events written only on
 * create, claim/complete/fail/retry, concurrent claimers never sharing an event, and delivery through the
 * dispatcher; when it has `users`, the lifecycle (status round trip, idempotent disable, delete then re-login
 * as a new user, paging that returns every user exactly once during concurrent inserts, literal `%` and `_`
 * in queries, lifecycle events in the outbox); when it has `changes`, delivery of changes to every subscriber by id and key;
 * when it has `logout`, a logout-token `jti` claimed once among 50 racers and revoked sessions (expiry, purge,
 * feed delivery); when it has `scim` (decision 0008), the SCIM part: users kept as written, `userName`
 * (case-insensitively) and `externalId` unique per issuer (`scim_conflict` with the `attribute`), a login and a
 * SCIM create meeting on `externalId` in either order (adopt, bind by `upsert` and `scim.bind`), 50 mixed
 * racers for one person ending on one row created once, hide and re-create, every filter operator with value
 * paths and two-valued logic (an absent attribute is `ne` anything), 1-based paging, `ifVersion`, groups with
 * members of the issuer only, atomic member changes and `groupsOf`; with `createBrokenStore`, every operation of an unreachable store answers
 * `provisioning_unavailable`. Races are real: parallel calls through several provisioners. Every case works
 * on its own identities and ids, so a shared, already-used database is fine.
 *
 * @example
 * ```ts
 * // my-store.test.ts
 * import { runStoreConformance } from '@jit-provision/testing';
 * import { createMyStore } from './my-store';
 *
 * runStoreConformance({ name: 'my-store', createStore: () => createMyStore(), cleanup: (s) => s.close() });
 * ```
 */
export function runStoreConformance<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe(`Store conformance: ${options.name}`, () => {
    userCases(options);
    userLifecycleCases(options);
    roleSyncCases(options);
    edgeCases(options);
    reservationCases(options);
    runInvitationConformance({
      createStore: options.createStore,
      ...(options.cleanup ? { cleanup: options.cleanup } : {}),
    });
    outboxCases(options);
    changeFeedCases(options);
    logoutCases(options);
    scimCases(options);
    outageCases(options);
  });
}
