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
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
        timer.unref?.();
      });
      const context = { hook: hook.name || `hook#${index}`, eventId: event.eventId, userId: event.user.id };
      try {
        const outcome = await Promise.race([Promise.resolve().then(() => hook(event)), timeout]);
        if (outcome === 'timeout')
          options.logger.warn({ ...context, timeoutMs: options.timeoutMs }, 'onProvisioned hook timed out');
      } catch (err) {
        options.logger.error({ ...context, err }, 'onProvisioned hook failed');
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}
