/** One session ended by a back-channel logout token: tokens carrying this `sid` from this issuer are refused. */
export interface RevokedSession {
  issuer: string;
  sid: string;
  /** Until when it is refused; after that it may be purged (no token carrying it can still be alive). */
  expiresAt: Date;
}

/**
 * What back-channel logout needs from a store (`backchannelLogout` from `@jit-provision/core/backchannel`):
 * a replay guard for logout tokens' `jti` shared by every process, and the sessions (`sid`) they ended, each
 * with an expiry after which it is purged. Prove an implementation with `runStoreConformance`.
 *
 * @example
 * ```ts
 * const first = await store.logout.claimJti(issuer, jti, new Date(Date.now() + 120_000)); // false: a replay
 * await store.logout.revokeSid(issuer, sid, new Date(Date.now() + 86_400_000));
 * ```
 */
export interface LogoutStore {
  /**
   * Remember `jti` of `issuer` until `expiresAt`: true for exactly one of any number of racing callers (in
   * every process), false for every later one while it is remembered. An expired entry may be claimed again.
   */
  claimJti(issuer: string, jti: string, expiresAt: Date): Promise<boolean>;
  /**
   * Refuse tokens carrying `sid` of `issuer` until `expiresAt` (a later expiry of an already revoked sid wins).
   * A store with a change feed reports it to its subscribers' `onSessionRevoked`, in every process.
   */
  revokeSid(issuer: string, sid: string, expiresAt: Date): Promise<void>;
  /** Whether `sid` of `issuer` is revoked now (not yet expired). */
  isSidRevoked(issuer: string, sid: string): Promise<boolean>;
  /**
   * The revoked sessions not yet expired, at most `limit` of them (any `limit + 1`th tells the caller the list
   * was cut): what a process loads when its change feed comes up.
   */
  revokedSids(limit: number): Promise<RevokedSession[]>;
  /** Delete expired jtis and sessions; answers how many rows went. Stores also purge on their own. */
  purgeExpired(): Promise<number>;
}
