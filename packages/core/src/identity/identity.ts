import { InvalidIdentityError } from '../errors';
import type { Identity } from '../types';

// Limits match the Postgres columns and common IdP limits; anything longer is an attack or a bug.
const LIMITS = { issuer: 2048, subject: 255, email: 320, name: 512, tenantId: 255, externalId: 255 } as const;
// C0, DEL and C1 control characters: never valid in identifiers or profile text, and dangerous in logs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

// With the `u` flag a surrogate range only matches unpaired surrogates (pairs are one code point), so
// this is `!String.prototype.isWellFormed()` without needing the ES2024 lib.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * True when `value` is ill-formed UTF-16 (holds a lone surrogate). Such strings cannot be stored faithfully:
 * Postgres (and any UTF-8 encoder) turns every lone surrogate into U+FFFD, so `x\uD800` and `x\uDBFF` would
 * become one row, and a name that never round-trips would defeat the user cache.
 *
 * @example
 * ```ts
 * isIllFormed('x\uD800'); // true
 * isIllFormed('😀');      // false
 * ```
 */
export function isIllFormed(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/**
 * True when `value` holds a C0, DEL or C1 control character.
 *
 * @example
 * ```ts
 * hasControlCharacters('a\u0000b'); // true
 * ```
 */
export function hasControlCharacters(value: string): boolean {
  return CONTROL.test(value);
}

function checkText(field: keyof typeof LIMITS, value: unknown, required: boolean): string | null | undefined {
  if (value === undefined || value === null) {
    if (required) throw new InvalidIdentityError(field, `${field} is required`);
    return value;
  }
  if (typeof value !== 'string') throw new InvalidIdentityError(field, `${field} must be a string`);
  if (required && value.length === 0) throw new InvalidIdentityError(field, `${field} must not be empty`);
  if (value.length > LIMITS[field])
    throw new InvalidIdentityError(field, `${field} is longer than ${LIMITS[field]}`);
  if (hasControlCharacters(value))
    throw new InvalidIdentityError(field, `${field} contains control characters`);
  if (isIllFormed(value)) throw new InvalidIdentityError(field, `${field} is not well-formed UTF-16`);
  return value;
}

/**
 * Check an identity before anything is written: issuer and subject present, every field within its
 * length limit, free of control characters and well-formed UTF-16 (no lone surrogates). Returns a normalised copy (email trimmed, empty → null).
 *
 * @example
 * ```ts
 * validateIdentity({ issuer: 'https://idp.example.com', subject: '' }); // throws InvalidIdentityError (invalid_identity)
 * ```
 */
export function validateIdentity(identity: Identity): Identity {
  if (typeof identity !== 'object' || identity === null) {
    throw new InvalidIdentityError('identity', 'identity must be an object');
  }
  const issuer = checkText('issuer', identity.issuer, true) as string;
  const subject = checkText('subject', identity.subject, true) as string;
  const rawEmail = typeof identity.email === 'string' ? identity.email.trim() : identity.email;
  const email = checkText('email', rawEmail === '' ? null : rawEmail, false);
  const name = checkText('name', identity.name, false);
  const tenantId = checkText('tenantId', identity.tenantId, false);
  const externalId = checkText('externalId', identity.externalId, false);
  if (identity.emailVerified !== undefined && typeof identity.emailVerified !== 'boolean') {
    throw new InvalidIdentityError('emailVerified', 'emailVerified must be a boolean');
  }
  const out: Identity = { issuer, subject };
  if (email !== undefined) out.email = email;
  if (identity.emailVerified !== undefined) out.emailVerified = identity.emailVerified;
  if (name !== undefined) out.name = name;
  if (tenantId !== undefined) out.tenantId = tenantId;
  // An empty or null externalId links nothing (an unbound SCIM row is found by a non-empty one only).
  if (typeof externalId === 'string' && externalId.length > 0) out.externalId = externalId;
  if (identity.providerRole !== undefined)
    out.providerRole = validateRole(identity.providerRole, 'providerRole');
  return out;
}

/**
 * Check a role name (from options, preProvision, setRole or an invitation).
 *
 * @example
 * ```ts
 * validateRole('admin'); // 'admin'
 * ```
 */
export function validateRole(role: unknown, field = 'role'): string {
  if (!isRole(role)) throw new InvalidIdentityError(field, `${field} ${ROLE_RULE}`);
  return role;
}

/** The one role rule: roles end up in logs, URLs and SQL parameters, so they stay short and plain. */
export const isRole = (role: unknown): role is string =>
  typeof role === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(role);

/** The role rule in words, for error messages. */
export const ROLE_RULE = "must be 1-64 characters of letters, digits, '_', '.', ':' or '-'";
