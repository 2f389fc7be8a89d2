import type { JWTPayload } from 'jose';
import type { OutboxDispatcher, OutboxDispatcherOptions } from './outbox';
import type { Store } from './store';

/**
 * Who the caller is, as asserted by a trusted OIDC provider. Keyed by `(issuer, subject)`;
 * `email` and `name` are profile data synced on every login, never identity.
 */
export interface Identity {
  issuer: string;
  subject: string;
  email?: string | null | undefined;
  emailVerified?: boolean | undefined;
  name?: string | null | undefined;
  tenantId?: string | null | undefined;
}

/** The local user row. */
export interface UserRecord {
  id: string;
  issuer: string;
  subject: string;
  /** `oidc:${prefix}:${subject}` */
  username: string;
  email: string | null;
  name: string | null;
  role: string;
  tenantId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What `ensureUserExists` answers. `path` tells which route served it (cache, one lookup, or creation). */
export interface ProvisionResult {
  user: UserRecord;
  created: boolean;
  path: 'cache' | 'fast' | 'slow';
}

/** Verified JWT claims. */
export type Claims = JWTPayload & Record<string, unknown>;

/** What `authenticate` attaches to a request. `user` is null only with `onProvisioningError: 'continue'` during an outage. */
export interface AuthResult {
  user: UserRecord | null;
  identity: Identity;
  claims: Claims;
  created: boolean;
}

/** The framework-neutral request `authenticate` reads. Header names are matched case-insensitively. */
export interface AuthInput {
  headers: Headers | Record<string, string | string[] | undefined>;
}

/** A trusted OIDC issuer. */
export interface IssuerConfig {
  /** Exact `iss` value, e.g. `https://auth.example.com/realms/main`. */
  issuer: string;
  /** Expected `aud`; when set, tokens for any other audience are refused. */
  audience?: string | string[];
  /** JWKS URL; defaults to the `jwks_uri` of OIDC discovery at `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
  /** Username prefix (`oidc:${prefix}:${sub}`); defaults per well-known provider, else derived from the host. */
  prefix?: string;
  /** Allowed JWS algorithms; asymmetric only by default. */
  algorithms?: string[];
  /** Shared secret for HS* algorithms; HS* is refused unless this is set and `algorithms` names them. */
  secret?: string | Uint8Array;
  /** Claim holding the tenant id (default `tenant_id`); a path such as `['firebase', 'tenant']` reads a nested one. */
  tenantClaim?: ClaimName;
  /**
   * Where the profile claims are, when not at `email`, `email_verified` and `name`: e.g. Auth0's namespaced
   * custom claims, `{ email: 'https://example.com/email' }`. Only profile claims are mapped; roles never are.
   */
  claims?: { email?: ClaimName; emailVerified?: ClaimName; name?: ClaimName };
}

/** A top-level claim name (taken literally, dots and slashes included), or a path into nested claims. */
export type ClaimName = string | readonly string[];

/** Context a side-effect hook receives. `eventId` is a stable idempotency key for receivers that dedupe. */
export interface ProvisionedEvent {
  eventId: string;
  user: UserRecord;
  identity: Identity;
}

/**
 * A first-signup side effect (welcome email, default resources, analytics). Runs once per created user,
 * never for returning users; a failing hook is reported and never un-creates the user.
 */
export type Hook = (event: ProvisionedEvent) => void | Promise<void>;

/** What a policy may decide about a user about to be created. */
export interface PolicyDecision {
  /** The role the new user gets (e.g. from an invitation). Never taken from token claims. */
  role?: string;
  /**
   * Called once the store answered: `created` false means another caller created the user first;
   * `error` means creation failed and the policy should undo what it did (e.g. un-consume an invitation).
   */
  settle?(outcome: { user: UserRecord; created: boolean } | { error: unknown }): void | Promise<void>;
}

/** A before-create gate. Runs only on the slow path, never for returning users. Throw `PolicyRejectedError` to refuse. */
export interface Policy {
  readonly name: string;
  // biome-ignore lint/suspicious/noConfusingVoidType: lets a policy that only throws omit a return.
  beforeCreate(context: { identity: Identity }): void | PolicyDecision | Promise<void | PolicyDecision>;
}

/** Minimal logger; pino, console and most loggers fit. Tokens and secrets are never passed to it. */
export interface Logger {
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
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
  /** In-process caches (verified tokens, users); `false` disables them. */
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

/** A user key for cache invalidation. */
export type UserRef = string | { issuer: string; subject: string };

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
  setRole(userId: string, role: string): Promise<UserRecord>;
  /** Drop in-process cache entries for a user. */
  invalidate(ref: UserRef): void;
  readonly options: Readonly<ProvisionerOptions>;
  /** The outbox dispatcher delivering `onProvisioned` hooks in `hookDelivery: 'outbox'` mode; `stop()` it on shutdown. */
  readonly outbox?: OutboxDispatcher | undefined;
}
