import type { Store } from '../store';
import type { Identity, Logger } from '../types';
import {
  connectOtel,
  type OtelBridge,
  otelEvents,
  type TelemetryOptions,
  traceProvision,
  traceSlowPath,
  verifyTracer,
} from './otel';
import { createStats, type ProvisionerStats, type Stats } from './stats';
import { traceStore } from './store-tracer';

/** Ends a hook run, an outbox delivery or a span with its outcome. */
export type Finish<O extends string> = (outcome: O, err?: unknown) => void;

/**
 * The provisioner's counters and, when an OpenTelemetry provider is registered, its spans and metrics. Every
 * method is cheap when OpenTelemetry is off: integer increments, and the `trace*` wrappers return what they
 * were given, so the request path runs exactly as without telemetry.
 */
export interface Telemetry {
  stats(): ProvisionerStats;
  /** A request answered from the token cache and the user cache. */
  served(identity: Identity, userId: string): void;
  /** The verified-token cache knew the token (the user cache did not serve it). */
  tokenHit(): void;
  /** The verified-token cache did not know the token. */
  tokenMiss(): void;
  userCache(hit: boolean): void;
  ok(): void;
  refused(err: unknown, issuer?: string): void;
  created(): void;
  invalidation(): void;
  hook(label: string, name: string, userId: string): Finish<'ok' | 'failed' | 'timed_out'>;
  delivery(event: {
    id: string;
    type: string;
    userId: string;
    attempts: number;
  }): Finish<'delivered' | 'retry' | 'failed'>;
  /** `verify` inside a `jit.verify` span, timed; `undefined` when OpenTelemetry is off. */
  traceVerify?: <T extends { identity: Identity }>(
    verify: () => Promise<T>,
    issuerOf: () => string | undefined,
  ) => Promise<T>;
  /** `ensureUserExists` inside a `jit.provision` span. */
  traceProvision<
    F extends (identity: Identity) => Promise<{ user: { id: string }; created: boolean; path: string }>,
  >(ensure: F): F;
  /** The slow path, timed. */
  traceSlowPath<A extends unknown[], R>(slow: (...args: A) => Promise<R>): (...args: A) => Promise<R>;
  /** The store with a `jit.store.<op>` span around every call, and the lookup timed. */
  traceStore(store: Store): Store;
}

/**
 * Build the telemetry of one provisioner. `telemetry: false`, no `@opentelemetry/api`, or no provider
 * registered: counters only.
 *
 * @example
 * ```ts
 * const telemetry = createTelemetry(options.telemetry, store, logger);
 * const traced = telemetry.traceStore(store);
 * telemetry.stats().requests.ok;
 * ```
 */
export function createTelemetry(
  options: TelemetryOptions | false | undefined,
  store: Store,
  logger: Logger,
): Telemetry {
  const stats = createStats();
  // Decided once, here: a request never asks whether OpenTelemetry is on.
  const otel = options === false ? undefined : connectOtel(options, store, logger);
  return otel === undefined ? countersOnly(stats) : countersAndOtel(stats, otel);
}

/** Telemetry off: the counters' own methods, and wrappers that hand back what they are given. */
function countersOnly(stats: Stats): Telemetry {
  return {
    stats: stats.snapshot,
    served: stats.served,
    tokenHit: stats.tokenHit,
    tokenMiss: stats.tokenMiss,
    userCache: stats.userCache,
    ok: stats.ok,
    refused: stats.refused,
    created: stats.created,
    invalidation: stats.invalidation,
    hook: () => stats.hookEnded,
    delivery: () => stats.deliveryEnded,
    traceProvision: (ensure) => ensure,
    traceSlowPath: (slow) => slow,
    traceStore: (target) => target,
  };
}

/** Telemetry on: every event counted, then recorded as spans and metric points. */
function countersAndOtel(stats: Stats, otel: OtelBridge): Telemetry {
  const events = otelEvents(otel);
  const telemetry: Telemetry = {
    stats: stats.snapshot,
    served(identity, userId) {
      stats.served();
      events.served(identity, userId);
    },
    tokenHit() {
      stats.tokenHit();
      events.tokenHit();
    },
    tokenMiss() {
      stats.tokenMiss();
      events.tokenMiss();
    },
    userCache(hit) {
      stats.userCache(hit);
      events.userCache(hit);
    },
    ok() {
      stats.ok();
      events.ok();
    },
    refused(err) {
      events.refused(stats.refused(err));
    },
    created() {
      stats.created();
      events.created();
    },
    invalidation() {
      stats.invalidation();
      events.invalidation();
    },
    hook(label, name, userId) {
      const end = events.hook(label, name, userId);
      return (outcome, err) => {
        stats.hookEnded(outcome);
        end(outcome, err);
      };
    },
    delivery(event) {
      const end = events.delivery(event);
      return (outcome, err) => {
        stats.deliveryEnded(outcome);
        end(outcome, err);
      };
    },
    traceProvision: (ensure) => traceProvision(otel, ensure),
    traceSlowPath: (slow) => traceSlowPath(otel, slow),
    traceStore: (target) => traceStore(target, otel),
  };
  const traceVerify = verifyTracer(otel);
  if (traceVerify !== undefined) telemetry.traceVerify = traceVerify;
  return telemetry;
}
