import { ConfigurationError } from '../errors';
import { consoleLogger, positive } from '../internal';
import type { Store } from '../store';
import type { Telemetry } from '../telemetry';
import type { Hook, Logger, UserEventHook } from '../types';
import { claimLoop } from './claim-loop';
import { outboxDelivery } from './delivery';
import { defaultBackoff } from './retry';

/** Options of {@link createOutboxDispatcher}. */
export interface OutboxDispatcherOptions {
  /** A store with an `outbox` (store-memory, store-postgres). */
  store: Store;
  /** `onProvisioned` side effects; each receives the event id as `eventId`, the same on every retry. */
  hooks: readonly Hook[];
  /** `onUserEvent` hooks: receive every event type (`user.provisioned` included), with the same `eventId`. */
  userEventHooks?: readonly UserEventHook[];
  logger?: Logger;
  /** How often to look for due events (new ones, retries, expired claims). Default 1,000 ms. */
  pollMs?: number;
  /** Events claimed per round trip. Default 10. */
  batchSize?: number;
  /**
   * How long a claimed event stays hidden from other dispatchers. A claimer that crashes gives its events
   * back after this. Must exceed `hookTimeoutMs`. Default 60,000 ms.
   */
  leaseMs?: number;
  /** Longest one hook may run; a timeout counts as a failed attempt. Default 10,000 ms. */
  hookTimeoutMs?: number;
  /** Attempts before an event is marked `failed` (kept, visible to `store.outbox.list`). Default 10. */
  maxAttempts?: number;
  /** Delay before retry number `attempt` (1 = first retry). Default exponential: 1 s, 2 s, 4 s … capped at 1 h. */
  backoff?: (attempt: number) => number;
}

/** Delivers outbox events to hooks. See {@link createOutboxDispatcher}. */
export interface OutboxDispatcher {
  /** Poll every `pollMs` until {@link OutboxDispatcher.stop}. The timer never keeps the process alive. */
  start(): void;
  /**
   * Stop at once: no further poll and no further claim, whatever the backlog; nudges are ignored until
   * `start()`. Resolves when the deliveries in flight are finished: at most one batch (`batchSize` events,
   * delivered in parallel, each within `hookTimeoutMs` plus its store writes), after a claim already sent
   * to the store. Events not claimed stay pending for the next dispatcher; none is lost or delivered twice
   * by this one.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => { await dispatcher.stop(); await pool.end(); });
   * ```
   */
  stop(): Promise<void>;
  /** Deliver every event due now (claim until none is left); resolves with how many were delivered. */
  drain(): Promise<number>;
  /** Look for due events soon, without waiting for the next poll (the provisioner calls it after a creation). */
  nudge(): void;
}

/**
 * Deliver durable user events from `store.outbox` to hooks: `user.provisioned` to `hooks` (`onProvisioned`),
 * every type to `userEventHooks` (`onUserEvent`). A user deleted before their `user.provisioned` event is
 * delivered has nothing left to welcome: `onProvisioned` hooks skip it, `onUserEvent` hooks still get it
 * (with `user: null`). At least once per hook, with the event id as a stable idempotency key (`eventId`)
 * so receivers can dedupe. An event is `done` when
 * every hook succeeded; when any hook throws or times out, all hooks see it again after `backoff`, until
 * `maxAttempts`, after which it stays visible as `failed`. Any number of dispatchers, in any number of
 * processes, may share one outbox: a claim hides an event from the others for `leaseMs`.
 *
 * `createProvisioner({ hookDelivery: 'outbox' })` runs one for its own `onProvisioned` hooks; create one
 * yourself to deliver from a separate worker process.
 *
 * @example
 * ```ts
 * import { createOutboxDispatcher } from '@jit-provision/core';
 *
 * const dispatcher = createOutboxDispatcher({
 *   store,
 *   hooks: [async ({ eventId, user }) => mailer.sendWelcome(user.email, { idempotencyKey: eventId })],
 * });
 * dispatcher.start();
 * process.on('SIGTERM', () => dispatcher.stop());
 * ```
 */
export function createOutboxDispatcher(
  options: OutboxDispatcherOptions,
  /** @internal the provisioner's counters and spans */
  telemetry?: Telemetry,
): OutboxDispatcher {
  const outbox = options.store.outbox;
  if (outbox === undefined) throw new ConfigurationError('this store has no outbox; use inline hooks');
  const { hooks } = options;
  const userEventHooks = options.userEventHooks ?? [];
  const logger = options.logger ?? consoleLogger;
  const pollMs = positive(options.pollMs, 1_000, 'pollMs');
  const batchSize = Math.floor(positive(options.batchSize, 10, 'batchSize'));
  const hookTimeoutMs = positive(options.hookTimeoutMs, 10_000, 'hookTimeoutMs');
  const leaseMs = positive(options.leaseMs, Math.max(60_000, hookTimeoutMs * 2), 'leaseMs');
  if (leaseMs <= hookTimeoutMs) throw new ConfigurationError('leaseMs must exceed hookTimeoutMs');
  const maxAttempts = Math.floor(positive(options.maxAttempts, 10, 'maxAttempts'));
  const backoff = options.backoff ?? defaultBackoff;

  return claimLoop({
    outbox,
    deliver: outboxDelivery({
      store: options.store,
      outbox,
      hooks,
      userEventHooks,
      logger,
      hookTimeoutMs,
      maxAttempts,
      backoff,
      telemetry,
    }),
    logger,
    pollMs,
    batchSize,
    leaseMs,
  });
}
