import { describeError } from '../internal';
import type { OutboxEvent, OutboxStore } from '../store';
import type { Logger } from '../types';

/** What {@link claimLoop} needs. */
export interface ClaimLoopOptions {
  outbox: OutboxStore;
  /** Delivers one claimed event; resolves with whether it was delivered, never rejects. */
  deliver: (event: OutboxEvent) => Promise<boolean>;
  logger: Logger;
  pollMs: number;
  batchSize: number;
  leaseMs: number;
}

/** The claim loop's controls: the `OutboxDispatcher` methods. */
export interface ClaimLoop {
  start(): void;
  stop(): Promise<void>;
  drain(): Promise<number>;
  nudge(): void;
}

/**
 * Claims due events `batchSize` at a time and delivers each batch in parallel until none is left (a drain),
 * on every poll and on demand. One drain at a time; a drain asked for during one runs one more pass.
 * `stop()` ends a drain after the batch in flight, whatever the backlog.
 *
 * @example
 * ```ts
 * const loop = claimLoop({ outbox: store.outbox, deliver, logger, pollMs: 1_000, batchSize: 10, leaseMs: 60_000 });
 * loop.start();
 * ```
 */
export function claimLoop(options: ClaimLoopOptions): ClaimLoop {
  const { outbox, deliver, logger, pollMs, batchSize, leaseMs } = options;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  // Between stop() and the next start(): nudges are ignored.
  let stopped = false;
  // Bumped by every stop(): a drain begun before it claims no further batch.
  let stops = 0;
  // One drain at a time per dispatcher; a nudge during a drain asks for one more pass.
  let current: Promise<number> | undefined;
  let again = false;

  async function pass(epoch: number): Promise<number> {
    let delivered = 0;
    while (epoch === stops) {
      const batch = await outbox.claim({ limit: batchSize, leaseMs });
      if (batch.length === 0) break;
      // A batch claimed as stop() was called is delivered all the same: it is hidden from every other
      // dispatcher for leaseMs, so giving it up here would only delay it.
      const results = await Promise.all(batch.map(deliver));
      delivered += results.filter(Boolean).length;
    }
    return delivered;
  }

  function drain(): Promise<number> {
    if (current !== undefined) {
      again = true;
      return current;
    }
    const epoch = stops;
    current = (async () => {
      let delivered = 0;
      try {
        do {
          again = false;
          delivered += await pass(epoch);
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
      stopped = false;
      tick();
    },
    async stop() {
      running = false;
      stopped = true;
      stops++;
      clearTimeout(timer);
      await current?.catch(() => undefined);
    },
    drain,
    nudge() {
      if (stopped) return;
      drain().catch((err: unknown) =>
        logger.warn({ err: describeError(err) }, 'outbox delivery failed; will retry'),
      );
    },
  };
}
