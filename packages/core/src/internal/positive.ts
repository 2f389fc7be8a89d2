import { ConfigurationError } from '../errors';

/** A numeric option: `fallback` when unset, else a finite number > 0 or a {@link ConfigurationError} naming it. */
export function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigurationError(`${name} must be a positive number`);
  return value;
}
