import { TIMED_OUT, withTimeout } from '../internal';
import type { Telemetry } from '../telemetry';
import type { Logger } from '../types';

/** Any side-effect hook: `onProvisioned` and `onUserEvent` alike. */
type AnyHook<E> = (event: E) => void | Promise<void>;

/**
 * Run every hook for one event. A hook that throws or outlives `timeoutMs` is reported (under `label`,
 * e.g. `onProvisioned`) and skipped: side effects never undo the change or fail the call that made it.
 */
export async function runHooks<E extends { eventId: string }>(
  hooks: readonly AnyHook<E>[],
  event: E,
  options: { timeoutMs: number; logger: Logger; userId: string; label?: string; telemetry?: Telemetry },
): Promise<void> {
  const label = options.label ?? 'onProvisioned';
  await Promise.all(
    hooks.map(async (hook, index) => {
      const context = { hook: hookName(hook, index), eventId: event.eventId, userId: options.userId };
      const finish = options.telemetry?.hook(label, context.hook, options.userId);
      try {
        if ((await withTimeout(() => hook(event), options.timeoutMs)) === TIMED_OUT) {
          finish?.('timed_out');
          options.logger.warn({ ...context, timeoutMs: options.timeoutMs }, `${label} hook timed out`);
        } else finish?.('ok');
      } catch (err) {
        finish?.('failed', err);
        options.logger.error({ ...context, err }, `${label} hook failed`);
      }
    }),
  );
}

/** Run one hook with a deadline; rejects on throw or timeout (the outbox counts both as a failed attempt). */
export async function runHookOrThrow<E>(hook: AnyHook<E>, event: E, timeoutMs: number): Promise<void> {
  if ((await withTimeout(() => hook(event), timeoutMs)) === TIMED_OUT)
    throw new Error(`hook timed out after ${timeoutMs} ms`);
}

/** How logs and outbox errors name a hook. */
export const hookName = (hook: AnyHook<never>, index: number): string => hook.name || `hook#${index}`;
