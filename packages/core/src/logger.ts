import type { Logger } from './types';

/** The logger used when none is given: console, prefixed so the SDK's lines are easy to find. */
export const consoleLogger: Logger = {
  warn: (obj, msg) => console.warn(`[jit-provision] ${msg ?? ''}`, obj),
  error: (obj, msg) => console.error(`[jit-provision] ${msg ?? ''}`, obj),
};
