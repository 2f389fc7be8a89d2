import { describeError } from '../internal';
import type { OutboxEvent, OutboxStore, Store } from '../store';
import type { Telemetry } from '../telemetry';
import type { Hook, Logger, ProvisionedEvent, UserEvent, UserEventHook, UserRecord } from '../types';
import { hookName, runHookOrThrow } from './hooks';
import { retryAt } from './retry';

/** What {@link outboxDelivery} needs: the dispatcher's hooks and settings. */
export interface OutboxDeliveryOptions {
  store: Store;
  outbox: OutboxStore;
  hooks: readonly Hook[];
  userEventHooks: readonly UserEventHook[];
  logger: Logger;
  hookTimeoutMs: number;
  maxAttempts: number;
  backoff: (attempt: number) => number;
  telemetry?: Telemetry | undefined;
}

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

/** Every hook this event goes to, each wrapped to run with the deadline and named for error reports. */
function runsFor(
  { hooks, userEventHooks, hookTimeoutMs }: OutboxDeliveryOptions,
  event: OutboxEvent,
  user: UserRecord | null,
): Array<[string, () => Promise<void>]> {
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
async function observed(
  telemetry: Telemetry | undefined,
  name: string,
  userId: string,
  run: () => Promise<void>,
): Promise<void> {
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

/**
 * Delivers one claimed event to every hook it goes to, and records the outcome in the outbox: `done` when
 * every hook succeeded; otherwise a retry after `backoff`, or `failed` for good after `maxAttempts`.
 * Resolves with whether it was delivered; never rejects for a hook's or the store's failure.
 *
 * @example
 * ```ts
 * const deliver = outboxDelivery({ store, outbox: store.outbox, hooks, userEventHooks: [], logger, hookTimeoutMs: 10_000, maxAttempts: 10, backoff: defaultBackoff });
 * for (const event of await store.outbox.claim({ limit: 10, leaseMs: 60_000 })) await deliver(event);
 * ```
 */
export function outboxDelivery(options: OutboxDeliveryOptions): (event: OutboxEvent) => Promise<boolean> {
  const { store, outbox, logger, maxAttempts, backoff, telemetry } = options;
  return async (event) => {
    const context = { eventId: event.id, userId: event.userId, attempt: event.attempts };
    const finish = telemetry?.delivery(event);
    try {
      // Inside the try: a store error here is a failed attempt (retried after backoff), not an event left
      // claimed until its lease runs out.
      const user = event.type === 'user.deleted' ? null : await store.getUser(event.userId);
      const runs = runsFor(options, event, user);
      const results = await Promise.allSettled(
        runs.map(([name, run]) => observed(telemetry, name, event.userId, run)),
      );
      const failures = results.flatMap((r, i) =>
        r.status === 'rejected' ? [`${runs[i]?.[0]}: ${describeError(r.reason)}`] : [],
      );
      if (failures.length > 0) throw new Error(failures.join('; '));
      await outbox.complete(event.id);
      finish?.('delivered');
      return true;
    } catch (err) {
      const error = describeError(err);
      const at = retryAt(event.attempts, maxAttempts, backoff);
      finish?.(at === null ? 'failed' : 'retry', err);
      if (at === null) logger.error({ ...context, error }, 'outbox event failed for good');
      else logger.warn({ ...context, error, retryAt: at }, 'outbox delivery failed; will retry');
      await outbox.fail(event.id, { error, retryAt: at });
      return false;
    }
  };
}
