/** Delay before retry number `attempt` (1 = first retry): 1 s, 2 s, 4 s … capped at 1 h. */
export const defaultBackoff = (attempt: number): number => Math.min(1_000 * 2 ** (attempt - 1), 3_600_000);

/**
 * When a failed delivery is tried again: after `backoff(attempts)`, or never (null) once it used its
 * `maxAttempts`, after which the event stays visible as `failed`.
 *
 * @example
 * ```ts
 * retryAt(1, 10, defaultBackoff); // a Date 1 s from now
 * retryAt(10, 10, defaultBackoff); // null: failed for good
 * ```
 */
export function retryAt(
  attempts: number,
  maxAttempts: number,
  backoff: (attempt: number) => number,
): Date | null {
  return attempts >= maxAttempts ? null : new Date(Date.now() + backoff(attempts));
}
