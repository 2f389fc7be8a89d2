import { isJitProvisionError } from '../errors';

/** How an authenticated request ended, as `stats().requests` and the `jit.requests` counter name it. */
export type RequestOutcome =
  | 'ok'
  | 'missing_token'
  | 'invalid_token'
  | 'user_disabled'
  | 'not_provisioned'
  | 'policy_rejected'
  | 'store_unavailable'
  | 'error';

/**
 * `provisioner.stats()`: counters since the provisioner was created, for apps without OpenTelemetry. The same
 * numbers as the OpenTelemetry metrics (docs/observability.md).
 */
export interface ProvisionerStats {
  /** `authenticate` calls by outcome; `invalidToken` and `policyRejected` broken down by reason / code. */
  requests: Record<RequestOutcome, number> & {
    invalidToken: Record<string, number>;
    policyRejected: Record<string, number>;
  };
  /** Users created (first logins and `preProvision`). */
  usersCreated: number;
  /** Hits and misses of the verified-token cache and of the user cache. */
  cache: { token: { hits: number; misses: number }; user: { hits: number; misses: number } };
  /** Hook runs by outcome: inline ones of first logins, and every run of an outbox delivery (a timeout there counts as failed). */
  hooks: { ok: number; failed: number; timedOut: number };
  /** Outbox deliveries: `delivered`, `retry` (failed, will be retried), `failed` (gave up). */
  outbox: { delivered: number; retry: number; failed: number };
  /** Changes received from the store's change feed (`store.changes`). */
  invalidations: number;
}

/** How a hook run ended. */
export type HookOutcome = 'ok' | 'failed' | 'timed_out';
/** How an outbox delivery ended. */
export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

/** A refused request: its outcome, and the reason (invalid token) or code (policy) under it. */
export interface Refusal {
  outcome: RequestOutcome;
  detail?: string;
}

/**
 * The always-on counters behind `provisioner.stats()`. Plain integer increments with no OpenTelemetry in
 * sight: with OpenTelemetry off these methods are the provisioner's telemetry as they are, so a request pays
 * for nothing else.
 */
export interface Stats {
  /** A deep copy of the counters. */
  snapshot(): ProvisionerStats;
  /** A request answered from the token cache and the user cache. */
  served(): void;
  tokenHit(): void;
  tokenMiss(): void;
  userCache(hit: boolean): void;
  ok(): void;
  /** Counts a refused request; returns how it was classified, for the metric's attributes. */
  refused(err: unknown): Refusal;
  created(): void;
  invalidation(): void;
  hookEnded(outcome: HookOutcome, err?: unknown): void;
  deliveryEnded(outcome: DeliveryOutcome, err?: unknown): void;
}

const POLICY_CODES = new Set(['policy_rejected', 'email_domain_not_allowed', 'email_not_verified']);

function emptyStats(): ProvisionerStats {
  return {
    requests: {
      ok: 0,
      missing_token: 0,
      invalid_token: 0,
      user_disabled: 0,
      not_provisioned: 0,
      policy_rejected: 0,
      store_unavailable: 0,
      error: 0,
      invalidToken: {},
      policyRejected: {},
    },
    usersCreated: 0,
    cache: { token: { hits: 0, misses: 0 }, user: { hits: 0, misses: 0 } },
    hooks: { ok: 0, failed: 0, timedOut: 0 },
    outbox: { delivered: 0, retry: 0, failed: 0 },
    invalidations: 0,
  };
}

/**
 * Classify a refused request: its outcome, and the reason (invalid token) or code (policy) under it.
 *
 * @example
 * ```ts
 * refusal(new InvalidTokenError('expired')); // { outcome: 'invalid_token', detail: 'expired' }
 * ```
 */
export function refusal(err: unknown): Refusal {
  if (!isJitProvisionError(err)) return { outcome: 'error' };
  switch (err.code) {
    case 'missing_token':
      return { outcome: 'missing_token' };
    case 'invalid_token':
      return { outcome: 'invalid_token', detail: err.reason };
    case 'user_disabled':
      return { outcome: 'user_disabled' };
    case 'user_not_provisioned':
      return { outcome: 'not_provisioned' };
    case 'provisioning_unavailable':
      return { outcome: 'store_unavailable' };
    default:
      return POLICY_CODES.has(err.code) || err.code.startsWith('invitation_')
        ? { outcome: 'policy_rejected', detail: err.code }
        : { outcome: 'error' };
  }
}

const bump = (record: Record<string, number>, key: string) => {
  record[key] = (record[key] ?? 0) + 1;
};

/**
 * The counters of one provisioner, from zero.
 *
 * @example
 * ```ts
 * const stats = createStats();
 * stats.ok();
 * stats.snapshot().requests.ok; // 1
 * ```
 */
export function createStats(): Stats {
  const counts = emptyStats();
  // Closures, not `this`: the provisioner hands these methods around on their own.
  return {
    snapshot: () => structuredClone(counts),
    served() {
      counts.requests.ok++;
      counts.cache.token.hits++;
      counts.cache.user.hits++;
    },
    tokenHit() {
      counts.cache.token.hits++;
    },
    tokenMiss() {
      counts.cache.token.misses++;
    },
    userCache(hit) {
      if (hit) counts.cache.user.hits++;
      else counts.cache.user.misses++;
    },
    ok() {
      counts.requests.ok++;
    },
    refused(err) {
      const classified = refusal(err);
      const { outcome, detail } = classified;
      counts.requests[outcome]++;
      if (outcome === 'invalid_token' && detail !== undefined) bump(counts.requests.invalidToken, detail);
      if (outcome === 'policy_rejected' && detail !== undefined) bump(counts.requests.policyRejected, detail);
      return classified;
    },
    created() {
      counts.usersCreated++;
    },
    invalidation() {
      counts.invalidations++;
    },
    hookEnded(outcome) {
      if (outcome === 'ok') counts.hooks.ok++;
      else if (outcome === 'failed') counts.hooks.failed++;
      else counts.hooks.timedOut++;
    },
    deliveryEnded(outcome) {
      counts.outbox[outcome]++;
    },
  };
}
