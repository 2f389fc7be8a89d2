import type { Store } from '@jit-provision/core';
import { StoreUnavailableError } from '@jit-provision/core';

/** A real store whose every method fails with StoreUnavailableError while `down` is set. */
export function withOutage(store: Store): { store: Store; setDown(down: boolean): void } {
  let down = false;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (down) throw new StoreUnavailableError('store is down (simulated outage)');
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy, setDown: (value) => (down = value) };
}
