import type { OutboxDispatcher, OutboxDispatcherOptions } from './outbox';
import type { Store } from './store';
import type { TokenCacheOptions } from './token-cache';
import type {
  AuthInput,
  AuthResult,
  Hook,
  Identity,
  IssuerConfig,
  Logger,
  Policy,
  UserRecord,
} from './types';
import type { UserCacheOptions, UserRef } from './user-cache';

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
  /** Users served without a store read (default 10,000 users, 30 s); `false` reads the store on every request. */
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
   * Remote key set tuning (defaults are jose's): `cooldownMs` (30 s) is the least time between two JWKS
   * fetches caused by an unknown `kid`, so it bounds both a rotation's delay and a random-`kid` flood;
   * `cacheMaxAgeMs` (10 min) refetches an older set; `timeoutMs` (5 s) bounds discovery and JWKS fetches.
   */
  jwks?: { cooldownMs?: number; cacheMaxAgeMs?: number; timeoutMs?: number };
  logger?: Logger;
}

/** The provisioner. Create one per app with {@link createProvisioner}. */
export interface Provisioner {
  /** Make sure a local user exists for `identity`; fast path on every call after the first. */
  ensureUserExists(identity: Identity): Promise<ProvisionResult>;
  /** Verify the bearer token in `headers`, then `ensureUserExists`. */
  authenticate(input: AuthInput): Promise<AuthResult>;
  /** Create a user before their first login (e.g. with an elevated role). */
  preProvision(input: {
    issuer: string;
    subject: string;
    email?: string;
    name?: string;
    role?: string;
    tenantId?: string;
  }): Promise<UserRecord>;
  /** Set a user's role (validated) and drop them from the cache. Raises `UserNotFoundError` for an unknown id. */
  setRole(userId: string, role: string): Promise<UserRecord>;
  /** Read one user from the store (never the cache), by id or by (issuer, subject); null when absent. */
  getUser(ref: UserRef): Promise<UserRecord | null>;
  /** Drop in-process cache entries for a user. */
  invalidate(ref: UserRef): void;
  /** The outbox dispatcher delivering `onProvisioned` hooks in `hookDelivery: 'outbox'` mode; `stop()` it on shutdown. */
  readonly outbox?: OutboxDispatcher | undefined;
}
