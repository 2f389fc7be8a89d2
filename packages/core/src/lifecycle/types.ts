import type { UserPage } from '../store';
import type { UserRecord, UserRef, UserStatus } from '../types';

/** Filter and page of {@link UserLifecycle.listUsers}. */
export interface ListUsersQuery {
  /** Case-insensitive substring of email, name, username or subject, taken literally (at most 256 characters). */
  query?: string;
  role?: string;
  status?: UserStatus;
  /** Last seen before this instant, or never seen and created before it. */
  seenBefore?: Date;
  /** Page size: default 50, capped at 500. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** Options of the lifecycle changes that can take an admin away (`setRole`, `disable`, `deleteUser`). */
export interface LifecycleChangeOptions {
  /** Who made the change (an admin's user id, `'cli'`, …): the event's `actor`. */
  actor?: string;
  /**
   * Refuse (409 `last_admin`, nothing changed) a change that would leave no active user with role `admin`.
   * Atomic across processes on a store that supports it (store-postgres, store-memory); the admin API and
   * `preProvision` always ask for it.
   */
  keepAdmin?: boolean;
}

/** The provisioner's operations on existing users (a {@link Provisioner} has every one of them). */
export interface UserLifecycle {
  /**
   * Set a user's role (validated) as a local one (`roleSource: 'local'`, which no login overwrites), emit
   * `user.role_changed` when it changed, and drop the user from the cache. `null` hands the role back: to the
   * provider when the user's issuer maps roles with `sync: 'login'` (`roleSource: 'provider'`, the role is
   * re-evaluated at the next login), else to `defaultRole` (`roleSource: 'default'`).
   * Raises `UserNotFoundError` for an unknown user.
   *
   * @example
   * ```ts
   * await provisioner.setRole({ issuer, subject: 'f81d4fae' }, 'admin', { actor: adminId });
   * await provisioner.setRole(userId, null, { actor: adminId }); // back to the provider's mapping
   * ```
   */
  setRole(ref: UserRef, role: string | null, options?: LifecycleChangeOptions): Promise<UserRecord>;
  /**
   * A page of users (needs `store.users`), ordered by creation then id. `query` matches email, name, username
   * or subject, case-insensitively and literally (`%` and `_` are not wildcards); `seenBefore` finds dormant
   * users. `limit` defaults to 50 and is capped at 500; pass `nextCursor` back as `cursor` for the next page.
   *
   * @example
   * ```ts
   * let cursor: string | undefined;
   * do {
   *   const page = await provisioner.listUsers({ seenBefore: new Date(Date.now() - 90 * 86_400_000), cursor });
   *   for (const user of page.users) await provisioner.disable(user.id, { reason: 'dormant' });
   *   cursor = page.nextCursor ?? undefined;
   * } while (cursor);
   * ```
   */
  listUsers(query?: ListUsersQuery): Promise<UserPage>;
  /**
   * Refuse every request of this user (403 `user_disabled`) until {@link Provisioner.enable}; emits
   * `user.disabled`. Idempotent: disabling a disabled user writes nothing and emits nothing.
   *
   * @example
   * ```ts
   * await provisioner.disable(userId, { reason: 'left the company', actor: adminId });
   * ```
   */
  disable(ref: UserRef, options?: LifecycleChangeOptions & { reason?: string }): Promise<UserRecord>;
  /**
   * Let a disabled user in again; emits `user.enabled`. Idempotent like `disable`.
   *
   * @example
   * ```ts
   * await provisioner.enable(userId, { actor: adminId });
   * ```
   */
  enable(ref: UserRef, options?: { actor?: string }): Promise<UserRecord>;
  /**
   * Erase the user row; emits `user.deleted`. Not a ban: their next login is a new first login (new id,
   * `created: true`) where `autoCreate` and the policies allow it. To keep someone out, `disable` them.
   *
   * @example
   * ```ts
   * await provisioner.deleteUser(userId, { actor: adminId });
   * ```
   */
  deleteUser(ref: UserRef, options?: LifecycleChangeOptions): Promise<void>;
  /**
   * Sign the user out everywhere: `tokensValidAfter` = now (store clock), so every token issued before is
   * refused (401 `invalid_token`, reason `token_revoked`); emits `user.sessions_revoked`. `at` sets another
   * instant (a back-channel logout token's `iat`); a later `tokensValidAfter` already set stays.
   *
   * @example
   * ```ts
   * await provisioner.revokeSessions(userId, { actor: userId }); // "sign out of all devices"
   * ```
   */
  revokeSessions(ref: UserRef, options?: { actor?: string; at?: Date }): Promise<UserRecord>;
}
