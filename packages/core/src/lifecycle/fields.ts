import { InvalidFieldError } from '../errors';
import { hasControlCharacters, isRole, ROLE_RULE } from '../identity';
import type { UserListQuery } from '../store';
import type { ListUsersQuery } from './types';

/** Default and largest page of `listUsers`. */
export const LIST_LIMITS = { default: 50, max: 500 } as const;

/** An optional text field: null when absent, else 1-`max` characters without control characters. */
export function optionalText(field: string, value: unknown, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || hasControlCharacters(value))
    throw new InvalidFieldError(field, `${field} must be 1-${max} characters without control characters`);
  return value;
}

/** The `actor` of a change: a user id (1-255 characters) or null when none is given. */
export const validActor = (value: unknown): string | null => optionalText('actor', value, 255);

/** Check `listUsers`' arguments before anything is read: every bad value is an `invalid_field` (422) naming it. */
export function validateListQuery(q: ListUsersQuery = {}): UserListQuery {
  if (typeof q !== 'object' || q === null) throw new InvalidFieldError('query', 'expected an object');
  const out: UserListQuery = { limit: LIST_LIMITS.default };
  const query = optionalText('query', q.query === '' ? undefined : q.query, 256);
  if (query !== null) out.query = query;
  if (q.role !== undefined) {
    if (!isRole(q.role)) throw new InvalidFieldError('role', `role ${ROLE_RULE}`);
    out.role = q.role;
  }
  if (q.status !== undefined) {
    if (q.status !== 'active' && q.status !== 'disabled')
      throw new InvalidFieldError('status', "status must be 'active' or 'disabled'");
    out.status = q.status;
  }
  if (q.seenBefore !== undefined) {
    if (!(q.seenBefore instanceof Date) || Number.isNaN(q.seenBefore.getTime()))
      throw new InvalidFieldError('seenBefore', 'seenBefore must be a valid Date');
    out.seenBefore = q.seenBefore;
  }
  if (q.limit !== undefined) {
    if (!Number.isInteger(q.limit) || q.limit < 1)
      throw new InvalidFieldError('limit', 'limit must be an integer ≥ 1');
    out.limit = Math.min(q.limit, LIST_LIMITS.max);
  }
  const cursor = optionalText('cursor', q.cursor === '' ? undefined : q.cursor, 1024);
  if (cursor !== null) out.cursor = cursor;
  return out;
}
