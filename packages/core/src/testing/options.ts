import type { Store } from '../store';

/** Options of {@link runStoreConformance}. */
export interface StoreConformanceOptions<S extends Store = Store> {
  /** Shown in the suite title. */
  name: string;
  /** A ready store (migrated, empty or not: every case uses fresh identities). Called before each case. */
  createStore: () => S | Promise<S>;
  /** Called after each case with the store `createStore` returned. */
  cleanup?: (store: S) => void | Promise<void>;
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

export { sleep } from '../timers';
