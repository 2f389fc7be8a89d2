import type { CheckReport } from './check';
import type { OutboxDispatcher, OutboxDispatcherOptions } from './outbox';
import type { Store, UserPage } from './store';
import type { TokenCacheOptions } from './token-cache';
import type {
  AuthInput,
  AuthResult,
  Hook,
  Identity,
  IssuerConfig,
  Logger,
  Policy,
  UserEventHook,
  UserRecord,
  UserStatus,
} from './types';
import type { UserCacheOptions, UserRef } from './user-cache';

export type { CheckEntry, CheckReport } from './check';
export type { UserCacheOptions, UserRef } from './user-cache';

/** What `ensureUserExists` answers. `path` tells which route served it (cache, one lookup, or creation). */
export interface ProvisionResult {
  user: UserRecord;
  created: boolean;
  path: 'cache' | 'fast' | 'slow';
}

/** Options of {@link createProvisioner}. */
export interface ProvisionerOptions {
  store: Store;
  /** Trusted issuers, for `authenticate()`. */
  issuers?: IssuerConfig[];
  /** Default true; false → unknown users get `UserNotProvisionedError` (403). */
  autoCreate?: boolean;
  /** Role of auto-created users; default 'user'. Elevated roles are never taken from claims. */
  defaultRole?: string;
  policies?: Policy[];
  onProvisioned?: Hook[];
  /**
   * Hooks for every user event: `user.provisioned`, `user.disabled`, `user.enabled`, `user.deleted`,
   * `user.role_changed`, `user.sessions_revoked`. Delivered like `onProvisioned` (see `hookDelivery`).
   */
  onUserEvent?: UserEventHook[];
  /**
   * Record `lastSeenAt` at most once per `intervalMs` (default 1 hour) per user, off the request's path: the
   * request never waits for the write, and a failed write is logged once and ignored. Needs `store.users`
   * (skipped without it). `false` turns it off.
   */
  lastSeen?: { intervalMs?: number } | false;
  /** Longest a hook may run before it is reported as timed out (default 10 s). */
  hookTimeoutMs?: number;
  /**
   * How `onProvisioned` hooks are delivered.
   * - `'inline'` (default): in this process right after the user is created, at most once: a crash in
   *   between loses the side effect; the first request waits for the hooks (bounded by `hookTimeoutMs`).
   * - `'outbox'`: the store writes a durable event atomically with the user row (needs `store.outbox`); a
   *   dispatcher delivers it at least once, retrying failures with backoff, and survives crashes. Hooks get
   *   a stable `eventId` to dedupe with. The request never waits for them.
   */
  hookDelivery?: 'inline' | 'outbox';
  /** Tuning of the outbox dispatcher this provisioner runs in `'outbox'` mode. */
  outbox?: Omit<OutboxDispatcherOptions, 'store' | 'hooks' | 'logger' | 'hookTimeoutMs'>;
  /** App-owned user creation: the slow path becomes reserve → createUser → confirm (release on error). */
  createUser?: (identity: Identity) => Promise<string>;
  reservation?: { leaseMs?: number; waitMs?: number };
  /** Store failure in `authenticate`: 'reject' (503, default) or 'continue' without a user. */
  onProvisioningError?: 'reject' | 'continue';
  /**
   * Users served without a store read (default 10,000 users, 30 s); `false` reads the store on every request.
   * With a store that has a change feed (`store.changes`: store-memory, store-postgres), a changed user is
   * dropped at once in every process, and the cache is bypassed while the feed is not up; see
   * docs/invalidation.md.
   */
  userCache?: UserCacheOptions | false;
  /** Verified tokens served without a signature check (default 10,000 tokens and 16 MiB estimated, 5 min, never past `exp`); `false` verifies every request. */
  tokenCache?: Omit<TokenCacheOptions, 'clockToleranceSec'> | false;
  /**
   * @deprecated Use `userCache` and `tokenCache`: one `cache` set both (the user cache defaulting to 30 s,
   * the token cache to 5 min). Still honoured for both until the next minor version, with a warning.
   */
  cache?: { maxEntries?: number; ttlMs?: number } | false;
  /** Clock tolerance for exp/nbf, seconds (default 5). */
  clockToleranceSec?: number;
  /** Largest accepted token, bytes (default 16 KiB). */
  maxTokenBytes?: number;
  /**
   * Remote key set tuning: `cooldownMs` (30 s) is the least time between two JWKS fetches caused by an
   * unknown `kid`, so it bounds both a rotation's delay and a random-`kid` flood; `cacheMaxAgeMs` (10 min)
   * refetches an older set (while that fails, the last good set serves for up to 24 h); `timeoutMs` (5 s)
   * bounds discovery and JWKS fetches. A failed fetch is not retried for 5 s.
   */
  jwks?: { cooldownMs?: number; cacheMaxAgeMs?: number; timeoutMs?: number };
  logger?: Logger;
}

/** Filter and page of {@link Provisioner.listUsers}. */
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

/** The provisioner. Create one per app with {@link createProvisioner}. */
export interface Provisioner {
  /** Make sure a local user exists for `identity`; fast path on every call after the first. */
  ensureUserExists(identity: Identity): Promise<ProvisionResult>;
  /** Verify the bearer token in `headers`, then `ensureUserExists`. */
  authenticate(input: AuthInput): Promise<AuthResult>;
  /**
   * Create a user before their first login (e.g. with an elevated role). An existing user keeps its row
   * (a given `role` is applied to it), unless `exclusive`: then it raises `UserExistsError` (409) and
   * changes nothing. A created user emits `user.provisioned` with `actor` (the admin who created it; null
   * by default, as for a login).
   *
   * @example
   * ```ts
   * await provisioner.preProvision({ issuer, subject: 'f81d4fae', role: 'admin' }, { exclusive: true, actor: adminId });
   * ```
   */
  preProvision(
    input: {
      issuer: string;
      subject: string;
      email?: string;
      name?: string;
      role?: string;
      tenantId?: string;
    },
    options?: { exclusive?: boolean; actor?: string },
  ): Promise<UserRecord>;
  /**
   * Set a user's role (validated), emit `user.role_changed` when it changed, and drop the user from the cache.
   * `null` resets the role to `defaultRole` (a later version hands it back to the provider's roles).
   * Raises `UserNotFoundError` for an unknown user.
   *
   * @example
   * ```ts
   * await provisioner.setRole({ issuer, subject: 'f81d4fae' }, 'admin', { actor: adminId });
   * ```
   */
  setRole(ref: UserRef, role: string | null, options?: { actor?: string }): Promise<UserRecord>;
  /** Read one user from the store (never the cache), by id or by (issuer, subject); null when absent. */
  getUser(ref: UserRef): Promise<UserRecord | null>;
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
  disable(ref: UserRef, options?: { reason?: string; actor?: string }): Promise<UserRecord>;
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
  deleteUser(ref: UserRef, options?: { actor?: string }): Promise<void>;
  /**
   * Sign the user out everywhere: `tokensValidAfter` = now (store clock), so every token issued before is
   * refused (401 `invalid_token`, reason `token_revoked`); emits `user.sessions_revoked`.
   *
   * @example
   * ```ts
   * await provisioner.revokeSessions(userId, { actor: userId }); // "sign out of all devices"
   * ```
   */
  revokeSessions(ref: UserRef, options?: { actor?: string }): Promise<UserRecord>;
  /** Drop in-process cache entries for a user. */
  invalidate(ref: UserRef): void;
  /**
   * Check the set-up now, before the first request finds out: each trusted issuer's discovery document and
   * JWKS are fetched (the keys must be reachable and non-empty), and the store runs its own `check()` if it
   * has one (store-postgres: the schema exists and is migrated to the version it needs). Never throws; the
   * report says what failed and how to fix it.
   *
   * @example
   * ```ts
   * const report = await provisioner.check();
   * for (const { name, ok, detail } of report.checks) console.log(ok ? 'ok  ' : 'FAIL', name, '-', detail);
   * if (!report.ok) process.exitCode = 1;
   * ```
   */
  check(): Promise<CheckReport>;
  /** The outbox dispatcher delivering `onProvisioned` hooks in `hookDelivery: 'outbox'` mode; `stop()` it on shutdown. */
  readonly outbox?: OutboxDispatcher | undefined;
  /**
   * Stop the provisioner's background work: unsubscribe its user cache from the store's change feed
   * (`store.changes`; from then on the cache is bypassed) and stop the outbox dispatcher. Idempotent. The
   * store is the app's to close, after this.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => {
   *   await provisioner.close();
   *   await store.close();
   * });
   * ```
   */
  close(): Promise<void>;
}
