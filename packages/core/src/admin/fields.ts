import type { RouteRequest } from '../adapter';
import { InvalidFieldError, InvalidRequestError, isJitProvisionError } from '../errors';
import { isRole, normaliseEmail, ROLE_RULE } from '../identity';

// Readers of admin API input: each refuses a bad value with a 422 naming the field, before anything changes.

/** The JSON body as an object; no body reads as `{}`. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new InvalidRequestError('body must be a JSON object');
  return body as Record<string, unknown>;
}

/** One query parameter; a repeated one is refused rather than guessed at. */
export function queryValue(query: RouteRequest['query'], key: string): string | undefined {
  const value = query?.[key];
  if (value === undefined || typeof value === 'string') return value;
  throw new InvalidFieldError(key, `${key} must be given once`);
}

/** `value` when it is one of `allowed` (or undefined); else 422 naming `field`. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidFieldError(field, `${field} must be one of ${allowed.join(', ')}`);
}

/** A whole number in 1..max (or undefined); accepts a numeric string for query parameters. */
export function positiveInteger(value: unknown, field: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > max)
    throw new InvalidFieldError(field, `${field} must be a whole number from 1 to ${max}`);
  return n;
}

/** A normalised email address. */
export function emailField(value: unknown, field: string): string {
  try {
    return normaliseEmail(value, field);
  } catch (err) {
    if (isJitProvisionError(err, 'invalid_request')) throw new InvalidFieldError(field, err.message);
    throw err;
  }
}

/** A role, or undefined when absent. */
export function roleField(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isRole(value)) throw new InvalidFieldError(field, `${field} ${ROLE_RULE}`);
  return value;
}

/** Run `fn`, turning the identity checks' `invalid_identity` (400, with a field) into a 422 naming it. */
export async function asFieldErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isJitProvisionError(err, 'invalid_identity')) throw new InvalidFieldError(err.field, err.message);
    throw err;
  }
}
