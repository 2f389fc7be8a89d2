import type { OutboxDispatcher, OutboxDispatcherOptions } from '../events';
import type {
  CheckReport,
  DirectoryOptions,
  DirectoryProvisioning,
  PreProvisionInput,
  UserLifecycle,
} from '../lifecycle';
import type { Store } from '../store';
import type { ProvisionerStats, TelemetryOptions } from '../telemetry';
import type { TokenCacheOptions } from '../token';
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
  UserRef,
} from '../types';
import type { LogoutTokenOptions } from './logout';
import type { UserCacheOptions } from './user-cache';

export type {
  CheckEntry,
  CheckReport,
  DirectoryOptions,
  DirectoryProvisioning,
  DirectoryRoleMapping,
  LifecycleChangeOptions,
  ListUsersQuery,
  PreProvisionInput,
  UserLifecycle,
} from '../lifecycle';
export type {
  OtelMeterProvider,
  OtelTracerProvider,
  ProvisionerStats,
  RequestOutcome,
  TelemetryOptions,
} from '../telemetry';
export type { LogoutTokenOptions } from './logout';
export type { UserCacheOptions } from './user-cache';

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
  /** Clock tolerance for exp/nbf/iat, seconds (default 5). */
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
  /**
   * The bound on outbound token introspection calls of all issuers together, for opaque tokens no cache
   * answers (default 50 a second, bursts of 100); past it such tokens get 503 `provisioning_unavailable`.
   * See docs/introspection.md.
   */
  introspectionRate?: { perSecond: number; burst?: number };
  logger?: Logger;
  /**
   * OpenTelemetry traces and metrics (docs/observability.md). By default the providers registered with
   * `@opentelemetry/api` (an optional peer dependency) when the provisioner is created are used; without the
   * API or a registered provider nothing is traced. `false` turns it off; `stats()` counts either way.
   */
  telemetry?: TelemetryOptions | false;
}

/** The provisioner. Create one per app with {@link createProvisioner}. */
export interface Provisioner extends UserLifecycle {
  /** Make sure a local user exists for `identity`; fast path on every call after the first. */
  ensureUserExists(identity: Identity): Promise<ProvisionResult>;
  /** Verify the bearer token in `headers`, then `ensureUserExists`. */
  authenticate(input: AuthInput): Promise<AuthResult>;
  /**
   * For adapter authors: the answer `authenticate` would give, synchronously, when the token and its user
   * are both cached and still good (exp, revocation, disabled status and profile checked by the same rule as
   * `authenticate`); undefined when `authenticate` must run. `authorization` is the header's value (an array
   * when repeated). Optional so that a stand-in provisioner need not have it; adapters reach it through
   * `authenticateCachedRequest`.
   *
   * @example
   * ```ts
   * const auth = provisioner.authenticateCached?.(req.headers.authorization) ?? (await provisioner.authenticate({ headers: req.headers }));
   * ```
   */
  authenticateCached?(authorization: string | string[] | undefined): AuthResult | undefined;
  /**
   * For `backchannelLogout` (`@jit-provision/core/backchannel`): validate an OpenID Connect back-channel
   * logout token and end what it names (its `sid`, its `sub`'s sessions). Rejects with `InvalidTokenError`
   * for an invalid or replayed token. Optional so that a stand-in provisioner need not have it.
   *
   * @example
   * ```ts
   * await provisioner.receiveLogoutToken?.(form.get('logout_token') ?? '');
   * ```
   */
  receiveLogoutToken?(token: string, options?: LogoutTokenOptions): Promise<void>;
  /**
   * Create a user before their first login (e.g. with an elevated role). An existing user keeps its row
   * (a given `role` is applied to it as `setRole` would: a local role, `user.role_changed` with `actor`;
   * `LastAdminError`, 409 `last_admin`, when that would demote the only active admin), unless `exclusive`:
   * then it raises `UserExistsError` (409) and changes nothing. A created user emits `user.provisioned` with
   * `actor` (the admin who created it; null by default, as for a login).
   *
   * @example
   * ```ts
   * await provisioner.preProvision({ issuer, subject: 'f81d4fae', role: 'admin' }, { exclusive: true, actor: adminId });
   * ```
   */
  preProvision(
    input: PreProvisionInput,
    options?: { exclusive?: boolean; actor?: string },
  ): Promise<UserRecord>;
  /**
   * For `@jit-provision/scim`: the writes of an identity provider's directory for one issuer (see
   * {@link DirectoryProvisioning}). Raises `ConfigurationError` when the store has no `scim` part or the issuer
   * is not trusted. Optional so that a stand-in provisioner need not have it.
   *
   * @example
   * ```ts
   * const directory = provisioner.directory?.({ issuer, onDelete: 'disable' });
   * ```
   */
  directory?(options: DirectoryOptions): DirectoryProvisioning;
  /** Read one user from the store (never the cache), by id or by (issuer, subject); null when absent. */
  getUser(ref: UserRef): Promise<UserRecord | null>;
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
   * (`store.changes`; from then on the cache is bypassed) and stop the outbox dispatcher: it claims nothing
   * more and this resolves once its deliveries in flight are done (at most one batch; see
   * `OutboxDispatcher.stop`), the backlog left pending for the next process. Idempotent. The store is the
   * app's to close, after this.
   *
   * @example
   * ```ts
   * import { createPostgresStore } from '@jit-provision/store-postgres';
   *
   * const store = createPostgresStore({ pool });
   * const provisioner = createProvisioner({ store, issuers });
   * process.on('SIGTERM', async () => {
   *   await provisioner.close();
   *   await store.close(); // store-postgres: ends its change listener (store-memory has nothing to close)
   * });
   * ```
   */
  close(): Promise<void>;
  /**
   * Counters since the provisioner was created: requests by outcome, users created, cache hits and misses,
   * hook runs, outbox deliveries, invalidations. Always on (plain integer increments), with or without
   * OpenTelemetry; a fresh copy on every call.
   *
   * @example
   * ```ts
   * app.get('/metrics', (_req, res) => res.json(provisioner.stats()));
   * const { requests } = provisioner.stats();
   * console.log(requests.ok, requests.invalidToken.expired ?? 0);
   * ```
   */
  stats(): ProvisionerStats;
}
