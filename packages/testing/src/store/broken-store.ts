import { type Store, StoreUnavailableError } from '@jit-provision/core';

/**
 * A Store whose every operation fails as an unreachable database does: each method (the required ones and
 * those of the `reservations`, `invitations`, `users` and `outbox` parts) rejects with
 * `StoreUnavailableError` (`provisioning_unavailable`, 503 with `Retry-After`), and `check()` answers
 * `ok: false`. For testing what an app or an adapter does during an outage — `onProvisioningError: 'reject'`
 * (503) or `'continue'` (no user) — without breaking a real database.
 *
 * @example
 * ```ts
 * import { createProvisioner } from '@jit-provision/core';
 * import { createBrokenStore } from '@jit-provision/testing';
 *
 * const provisioner = createProvisioner({ store: createBrokenStore(), issuers, onProvisioningError: 'continue' });
 * const { user } = await provisioner.authenticate({ headers }); // user: null, the request goes on
 * ```
 */
export function createBrokenStore(): Store {
  const fail = (): Promise<never> =>
    Promise.reject(
      new StoreUnavailableError('store is unreachable (createBrokenStore)', { reason: 'unreachable' }),
    );
  // Any method of an optional part fails the same way; `then` stays undefined so a part is never a thenable.
  const part = <T extends object>(): T =>
    new Proxy({} as T, { get: (_target, property) => (property === 'then' ? undefined : fail) });
  return {
    lookup: fail,
    upsert: fail,
    sync: fail,
    getUser: fail,
    setRole: fail,
    reservations: part(),
    invitations: part(),
    users: part(),
    outbox: part(),
    check: () => Promise.resolve({ ok: false, detail: 'unreachable (createBrokenStore)' }),
  };
}
