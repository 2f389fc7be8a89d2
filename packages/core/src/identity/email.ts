import { createHash, timingSafeEqual } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { InvalidRequestError } from '../errors';
import { hasControlCharacters, isIllFormed } from './identity';

const MAX_EMAIL = 320;
// RFC 5322 specials, `%` (source routing: `a@evil.com%x.corp.com`) and any whitespace: none belongs in a plain
// address, and each lets one string read as different addresses to different parsers.
const FORBIDDEN = /[\s()<>[\]:;@\\,"%]/u;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const NON_ASCII = /[^\x20-\x7e]/u; // control characters are refused before this is used
const ASCII = /[\x20-\x7e]/;

/** An address as {@link parseEmail} accepts it. */
export interface ParsedEmail {
  /** `local@domain`: the form invitations store and every comparison uses. */
  address: string;
  /** The local part, ASCII letters lower-cased, every other character as given. */
  local: string;
  /** The domain after IDNA processing: ASCII, lower case, punycode (`xn--…`) labels, no trailing dot. */
  domain: string;
}

/** Each non-ASCII character as it is, unless IDNA or lower-casing would turn it into ASCII (U+212A → `k`). */
function foldsToAscii(text: string, fold: (c: string) => string): boolean {
  for (const c of text) {
    if (!NON_ASCII.test(c)) continue;
    const folded = fold(c);
    if (folded !== '' && ASCII.test(folded) && !folded.startsWith('xn--')) return true;
  }
  return false;
}

/**
 * THE email parser: invitations, the domain allowlist and Kratos address matching all read addresses
 * through it, so no two of them can disagree about what an address is. Accepts exactly one `@` with a
 * non-empty local part and domain; refuses (with `InvalidRequestError`, code `invalid_request`) whitespace,
 * commas, parentheses, quotes, `%`, other RFC 5322 specials, RFC 2047 encoded words (`=?…?=`), control
 * characters, ill-formed UTF-16, over 320 characters, and any non-ASCII character that lower-casing or IDNA
 * would map to ASCII (the Kelvin sign U+212A to `k`, fullwidth letters). The domain goes through IDNA
 * (`node:url` `domainToASCII`) and is compared as ASCII/punycode; the local part only folds ASCII letters.
 *
 * @example
 * ```ts
 * parseEmail(' Ada@Bücher.COM. '); // { address: 'ada@xn--bcher-kva.com', local: 'ada', domain: 'xn--bcher-kva.com' }
 * parseEmail('a@evil.com@corp.com'); // throws InvalidRequestError (invalid_request)
 * ```
 */
export function parseEmail(value: unknown, field = 'email'): ParsedEmail {
  if (typeof value !== 'string') throw new InvalidRequestError(`${field} must be a string`);
  const email = value.trim();
  if (email.length === 0 || email.length > MAX_EMAIL)
    throw new InvalidRequestError(`${field} must be 1-${MAX_EMAIL} characters`);
  if (hasControlCharacters(email) || isIllFormed(email))
    throw new InvalidRequestError(`${field} contains control characters or ill-formed text`);
  const at = email.indexOf('@');
  const rawLocal = email.slice(0, at);
  const rawDomain = email.slice(at + 1).replace(/\.$/, '');
  if (at <= 0 || rawDomain.length === 0 || FORBIDDEN.test(rawLocal) || FORBIDDEN.test(rawDomain)) {
    throw new InvalidRequestError(`${field} must be a plain address with one @`);
  }
  if (email.includes('=?')) throw new InvalidRequestError(`${field} must not hold an encoded word`);
  if (foldsToAscii(rawLocal, (c) => c.toLowerCase()) || foldsToAscii(rawDomain, (c) => domainToASCII(c))) {
    throw new InvalidRequestError(`${field} holds a character that stands in for an ASCII one`);
  }
  const domain = domainToASCII(rawDomain);
  if (domain === '' || domain.length > 253 || !domain.split('.').every((label) => LABEL.test(label))) {
    throw new InvalidRequestError(`${field} has an invalid domain`);
  }
  const local = rawLocal.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
  return { address: `${local}@${domain}`, local, domain };
}

/**
 * Normalise an email address for invitations: {@link parseEmail}'s `address`. Raises `InvalidRequestError`
 * for anything it refuses.
 *
 * @example
 * ```ts
 * normaliseEmail('  Ada@Example.COM '); // 'ada@example.com'
 * normaliseEmail('no-at-sign');         // throws InvalidRequestError (invalid_request)
 * ```
 */
export function normaliseEmail(value: unknown, field = 'email'): string {
  return parseEmail(value, field).address;
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
