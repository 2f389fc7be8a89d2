import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidRequestError } from './errors';
import { hasControlCharacters } from './identity';

const MAX_EMAIL = 320;

/**
 * Normalise an email address for invitations: trimmed, lower-cased, at most 320 characters, no control
 * characters, exactly one `@` with something on both sides. Raises `InvalidRequestError` otherwise.
 *
 * @example
 * ```ts
 * normaliseEmail('  Ada@Example.COM '); // 'ada@example.com'
 * normaliseEmail('no-at-sign');         // throws InvalidRequestError (invalid_request)
 * ```
 */
export function normaliseEmail(value: unknown, field = 'email'): string {
  if (typeof value !== 'string') throw new InvalidRequestError(`${field} must be a string`);
  const email = value.trim().toLowerCase();
  if (email.length === 0 || email.length > MAX_EMAIL)
    throw new InvalidRequestError(`${field} must be 1-${MAX_EMAIL} characters`);
  if (hasControlCharacters(email)) throw new InvalidRequestError(`${field} contains control characters`);
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@') || at === email.length - 1 || /\s/.test(email)) {
    throw new InvalidRequestError(`${field} must be an address with one @`);
  }
  return email;
}

/**
 * The normalised domain of an address: the part after the LAST `@`, trimmed, lower-cased, trailing dot
 * stripped. Empty string when there is none.
 *
 * @example
 * ```ts
 * emailDomain('"a@b"@Corp.COM.'); // 'corp.com'
 * ```
 */
export function emailDomain(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return '';
  return email
    .slice(at + 1)
    .trim()
    .toLowerCase()
    .replace(/\.$/, '');
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Compare two strings in time independent of where they differ (both are hashed first, so their lengths
 * leak nothing either). For API keys, emails and anything else an attacker may probe byte by byte.
 *
 * @example
 * ```ts
 * if (!safeEqual(request.headers['x-api-key'] ?? '', apiKey)) throw new InvalidApiKeyError();
 * ```
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
