import type { Store } from '../store';
import { errorType, fail, type OtelBridge, seconds } from './otel';

/** The parts of a store whose methods are traced as `jit.store.<part>.<method>`. */
const STORE_PARTS = new Set(['outbox', 'users', 'reservations', 'invitations']);

/**
 * `store` with a `jit.store.<op>` span around every call (nesting what the call does under it), and
 * `lookup` timed by the `jit.store.lookup.duration` histogram. Synchronous methods stay synchronous.
 *
 * @example
 * ```ts
 * const traced = traceStore(store, otel);
 * await traced.lookup({ issuer, subject }); // a jit.store.lookup span
 * ```
 */
export function traceStore(store: Store, { tracer, metrics: m, within }: OtelBridge): Store {
  return wrapStore(store, '', (op, call) => {
    const span = tracer?.startSpan(`jit.store.${op}`, { attributes: { 'db.operation.name': op } });
    const start = performance.now();
    const settle = (err?: unknown) => {
      if (op === 'lookup')
        m?.lookup.record(seconds(start), err === undefined ? {} : { 'error.type': errorType(err) });
      if (span !== undefined) {
        if (err !== undefined) fail(span, err);
        span.end();
      }
    };
    const result = span === undefined ? call() : within(span, call);
    if (!(result instanceof Promise)) {
      settle();
      return result;
    }
    return result.then(
      (value) => {
        settle();
        return value;
      },
      (err: unknown) => {
        settle(err);
        throw err;
      },
    );
  });
}

type Around = (op: string, call: () => unknown) => unknown;

/** `store` with every method (and every method of its parts) called through `around`; `changes` is left alone. */
function wrapStore<S extends object>(store: S, prefix: string, around: Around): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || value === null || value === undefined) return value;
      if (wrapped.has(prop)) return wrapped.get(prop);
      let out = value;
      if (typeof value === 'function') {
        const op = `${prefix}${prop}`;
        const method = value as (...args: unknown[]) => unknown;
        out = (...args: unknown[]) => around(op, () => method.apply(target, args));
      } else if (prefix === '' && typeof value === 'object' && STORE_PARTS.has(prop)) {
        out = wrapStore(value, `${prop}.`, around);
      } else {
        return value;
      }
      wrapped.set(prop, out);
      return out;
    },
  });
}
