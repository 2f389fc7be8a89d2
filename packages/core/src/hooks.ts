import { TIMED_OUT, withTimeout } from './timers';
import type { Hook, Logger, ProvisionedEvent } from './types';

/**
 * Run every `onProvisioned` hook for one created user. A hook that throws or outlives `timeoutMs` is
 * reported and skipped: side effects never un-create a user or fail the request that created it.
 */
export async function runHooks(
  hooks: readonly Hook[],
  event: ProvisionedEvent,
  options: { timeoutMs: number; logger: Logger },
): Promise<void> {
  await Promise.all(
    hooks.map(async (hook, index) => {
      const context = { hook: hookName(hook, index), eventId: event.eventId, userId: event.user.id };
      try {
        if ((await withTimeout(() => hook(event), options.timeoutMs)) === TIMED_OUT)
          options.logger.warn({ ...context, timeoutMs: options.timeoutMs }, 'onProvisioned hook timed out');
      } catch (err) {
        options.logger.error({ ...context, err }, 'onProvisioned hook failed');
      }
    }),
  );
}

/** Run one hook with a deadline; rejects on throw or timeout (the outbox counts both as a failed attempt). */
export async function runHookOrThrow(hook: Hook, event: ProvisionedEvent, timeoutMs: number): Promise<void> {
  if ((await withTimeout(() => hook(event), timeoutMs)) === TIMED_OUT)
    throw new Error(`hook timed out after ${timeoutMs} ms`);
}

/** How logs and outbox errors name a hook. */
export const hookName = (hook: Hook, index: number): string => hook.name || `hook#${index}`;
