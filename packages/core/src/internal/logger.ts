import type { Logger } from '../types';

/** The logger used when none is given: console, prefixed so the SDK's lines are easy to find. */
export const consoleLogger: Logger = {
  warn: (obj, msg) => console.warn(`[jit-provision] ${msg ?? ''}`, obj),
  error: (obj, msg) => console.error(`[jit-provision] ${msg ?? ''}`, obj),
};

/** An error as one short line for a log field: its name and message, never its stack or properties. */
export const describeError = (err: unknown): string =>
  (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 1_000);
