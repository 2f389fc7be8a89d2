import { ConfigurationError } from '../errors';
import { consoleLogger, describeError, positive } from '../internal';
import type { OutboxEvent, Store } from '../store';
import type { Telemetry } from '../telemetry';
import type { Hook, Logger, ProvisionedEvent, UserEvent, UserEventHook, UserRecord } from '../types';
import { hookName, runHookOrThrow } from './hooks';

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
  /** Stop polling and wait for deliveries in flight. */
  stop(): Promise<void>;
  /** Deliver every event due now (claim until none is left); resolves with how many were delivered. */
  drain(): Promise<number>;
  /** Look for due events soon, without waiting for the next poll (the provisioner calls it after a creation). */
  nudge(): void;
}

const defaultBackoff = (attempt: number) => Math.min(1_000 * 2 ** (attempt - 1), 3_600_000);

/** The {@link UserEvent} of an outbox row; `user` is what the store holds now (never a deleted row). */
export function userEventOf(event: OutboxEvent, user: UserRecord | null): UserEvent {
  return {
    type: event.type,
    eventId: event.id,
    userId: event.userId,
    user: event.type === 'user.deleted' ? null : user,
    actor: event.actor,
    at: event.createdAt,
    ...(event.data === null ? {} : { data: event.data }),
  };
}

/**
 * Deliver durable user events from `store.outbox` to hooks: `user.provisioned` to `hooks` (`onProvisioned`),
 * every type to `userEventHooks` (`onUserEvent`). A user deleted before their `user.provisioned` event is
 * delivered has nothing left to welcome: `onProvisioned` hooks skip it, `onUserEvent` hooks still get it
 * (with `user: null`). At least once per hook, at least once per hook, with
 * the event id as a stable idempotency key (`eventId`) so receivers can dedupe. An event is `done` when
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

  let timer: NodeJS.Timeout | undefined;
  let running = false;
  // One drain at a time per dispatcher; a nudge during a drain asks for one more pass.
  let current: Promise<number> | undefined;
  let again = false;

  /** Every hook this event goes to, each wrapped to run with the deadline and named for error reports. */
  function runsFor(event: OutboxEvent, user: UserRecord | null): Array<[string, () => Promise<void>]> {
    const runs: Array<[string, () => Promise<void>]> = [];
    if (event.type === 'user.provisioned' && user !== null) {
      const provisioned: ProvisionedEvent = { eventId: event.id, user, identity: event.identity };
      for (const [i, hook] of hooks.entries())
        runs.push([hookName(hook, i), () => runHookOrThrow(hook, provisioned, hookTimeoutMs)]);
    }
    if (userEventHooks.length > 0) {
      const userEvent = userEventOf(event, user);
      for (const [i, hook] of userEventHooks.entries())
        runs.push([`onUserEvent:${hookName(hook, i)}`, () => runHookOrThrow(hook, userEvent, hookTimeoutMs)]);
    }
    return runs;
  }

  /** One hook run, counted and traced like an inline one (a timeout counts as `failed` here). */
  async function observed(name: string, userId: string, run: () => Promise<void>): Promise<void> {
    const label = name.startsWith('onUserEvent:') ? 'onUserEvent' : 'onProvisioned';
    const finish = telemetry?.hook(label, name, userId);
    try {
      await run();
      finish?.('ok');
    } catch (err) {
      finish?.('failed', err);
      throw err;
    }
  }

  async function deliver(event: OutboxEvent): Promise<boolean> {
    const context = { eventId: event.id, userId: event.userId, attempt: event.attempts };
    const finish = telemetry?.delivery(event);
    try {
      // Inside the try: a store error here is a failed attempt (retried after backoff), not an event left
      // claimed until its lease runs out.
      const user = event.type === 'user.deleted' ? null : await options.store.getUser(event.userId);
      const runs = runsFor(event, user);
      const results = await Promise.allSettled(runs.map(([name, run]) => observed(name, event.userId, run)));
      const failures = results.flatMap((r, i) =>
        r.status === 'rejected' ? [`${runs[i]?.[0]}: ${describeError(r.reason)}`] : [],
      );
      if (failures.length > 0) throw new Error(failures.join('; '));
      await outbox?.complete(event.id);
      finish?.('delivered');
      return true;
    } catch (err) {
      const error = describeError(err);
      const retryAt = event.attempts >= maxAttempts ? null : new Date(Date.now() + backoff(event.attempts));
      finish?.(retryAt === null ? 'failed' : 'retry', err);
      if (retryAt === null) logger.error({ ...context, error }, 'outbox event failed for good');
      else logger.warn({ ...context, error, retryAt }, 'outbox delivery failed; will retry');
      await outbox?.fail(event.id, { error, retryAt });
      return false;
    }
  }

  async function pass(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const batch = await outbox?.claim({ limit: batchSize, leaseMs });
      if (batch === undefined || batch.length === 0) return delivered;
      const results = await Promise.all(batch.map(deliver));
      delivered += results.filter(Boolean).length;
    }
  }

  function drain(): Promise<number> {
    if (current !== undefined) {
      again = true;
      return current;
    }
    current = (async () => {
      let delivered = 0;
      try {
        do {
          again = false;
          delivered += await pass();
        } while (again);
      } finally {
        current = undefined;
      }
      return delivered;
    })();
    return current;
  }

  const tick = () => {
    drain()
      .catch((err: unknown) => logger.warn({ err: describeError(err) }, 'outbox poll failed; will retry'))
      .finally(() => {
        if (running) schedule();
      });
  };
  const schedule = () => {
    timer = setTimeout(tick, pollMs);
    timer.unref?.();
  };

  return {
    start() {
      if (running) return;
      running = true;
      tick();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await current?.catch(() => undefined);
    },
    drain,
    nudge() {
      drain().catch((err: unknown) =>
        logger.warn({ err: describeError(err) }, 'outbox delivery failed; will retry'),
      );
    },
  };
}
