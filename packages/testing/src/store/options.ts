import type { NewUser, Store } from '@jit-provision/core';

/** Options every `run…Conformance` suite takes. */
export interface ConformanceOptions<S extends Store = Store> {
  /** Shown in the suite title. */
  name?: string;
  /** A ready store (migrated, empty or not: every case uses fresh identities). Called before each case. */
  createStore: () => S | Promise<S>;
  /** Called after each case with the store `createStore` returned. */
  cleanup?: (store: S) => void | Promise<void>;
}

/** Options of {@link runStoreConformance}. */
export interface StoreConformanceOptions<S extends Store = Store> extends ConformanceOptions<S> {
  name: string;
  /**
   * A store whose database cannot be reached (e.g. a pool pointing at a closed port). Every operation on it
   * must reject with `StoreUnavailableError` (code `provisioning_unavailable`). Omit it only for a store that
   * has no connection to lose (an in-process store): the outage cases are then skipped.
   */
  createBrokenStore?: () => S | Promise<S>;
  /** Called after each outage case with the store `createBrokenStore` returned. */
  cleanupBrokenStore?: (store: S) => void | Promise<void>;
  /**
   * Whether the store honours `UserChangeOptions.keepAdmin` (refusing, atomically, a change that takes the last
   * active holder of a role away). Default true; `false` skips those cases, for a store that ignores it (the
   * provisioner's in-process queue is then the only last-admin check).
   */
  keepAdmin?: boolean;
}

let counter = 0;

/** A fresh identity key per call, so cases never collide even on a shared, non-empty store. */
export function freshKey(label = 'user'): { issuer: string; subject: string } {
  counter += 1;
  return {
    issuer: 'https://conformance.jit-provision.test',
    subject: `${label}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 10)}`,
  };
}

/** A plain `NewUser` for `key` (role `user`, no profile, username `oidc:conf:<subject>`), with `extra` on top. */
export const conformanceUser = (
  key: { issuer: string; subject: string },
  extra: Partial<NewUser> = {},
): NewUser => ({
  ...key,
  username: `oidc:conf:${key.subject}`,
  role: 'user',
  email: null,
  name: null,
  tenantId: null,
  ...extra,
});

export { sleep } from '../sleep';
