import { usageError } from './errors';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * `7d`, `12h`, `30m`, `45s`, `500ms`, `2w` → milliseconds. A bare number is refused: a unit is never guessed.
 * Zero is refused unless `zero` says it means something (`--older-than 0d`: everything that ended, now);
 * an invitation valid for `0d` would be born expired.
 *
 * @example
 * ```ts
 * parseDuration('7d', '--expires'); // 604800000
 * parseDuration('0d', '--older-than', { zero: true }); // 0
 * ```
 */
export function parseDuration(text: string, what: string, options: { zero?: boolean } = {}): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (match === null) throw usageError(`${what} must be a duration such as 30d, 12h, 15m (got "${text}")`);
  const ms = Math.round(Number(match[1]) * (UNITS[match[2] as string] as number));
  if (!Number.isSafeInteger(ms)) throw usageError(`${what} is too long`);
  if (ms === 0 && options.zero !== true) throw usageError(`${what} must be more than zero`);
  return ms;
}

/**
 * `10/s`, `600/m`, `36000/h`, or a bare number of per-second → operations per second.
 *
 * @example
 * ```ts
 * parseRate('600/m'); // 10
 * ```
 */
export function parseRate(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/(s|m|h))?$/.exec(text.trim());
  if (match === null) throw usageError(`--rate must look like 10/s, 600/m or 10 (got "${text}")`);
  const per = { s: 1, m: 60, h: 3_600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
  const rate = Number(match[1]) / per;
  if (!(rate > 0)) throw usageError('--rate must be more than zero');
  return rate;
}

/** A positive whole number option, e.g. `--concurrency 8`. */
export function parseCount(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw usageError(`${what} must be a whole number ≥ 1`);
  return Number(text);
}
