/** Resolve after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What {@link withTimeout} answers when `run` outlived its deadline. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * Run `run` (sync or async; a sync throw becomes a rejection) against a deadline. The deadline's timer is
 * cleared as soon as either side settles, and never keeps the process alive.
 */
export async function withTimeout<T>(
  run: () => T | PromiseLike<T>,
  timeoutMs: number,
): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
    timer.unref?.();
  });
  try {
    return await Promise.race([Promise.resolve().then(run), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
