import type { UserRecord } from '../types';

/**
 * Signed out everywhere since a token was issued: `tokensValidAfter` is set and `issuedAtMs` (epoch ms) is
 * before it or unknown. The one rule for `authenticate` (which passes the earlier of `iat` and when it first
 * verified the token) and the admin API's re-check. Two field reads, no allocation. A row without
 * `tokensValidAfter` (a custom store that predates the lifecycle) was never revoked.
 *
 * @example
 * ```ts
 * if (signedOutSince(user, verified.issuedAt)) throw new InvalidTokenError('token_revoked');
 * ```
 */
export function signedOutSince(user: UserRecord | null, issuedAtMs: number | undefined): boolean {
  const validAfter = user?.tokensValidAfter;
  return validAfter != null && !(issuedAtMs !== undefined && issuedAtMs >= validAfter.getTime());
}
