import { ConfigurationError } from '../errors';
import { resolvePrefixes, validateRole } from '../identity';
import { consoleLogger, positive } from '../internal';
import { DEFAULT_LAST_SEEN_INTERVAL_MS } from '../lifecycle';
import type { ReservationStore, Store } from '../store';
import type { JwksOptions } from '../token';
import { type CheckedIssuers, checkIssuers, compileRoles, type TokenCacheOptions } from '../token';
import type { Hook, Identity, IssuerConfig, Logger, Policy, UserEventHook } from '../types';
import type { AuthenticatorOptions } from './authenticate';
import type { RoleMappings } from './provider-role';
import type { ProvisionerOptions } from './types';
import { DEFAULT_USER_CACHE } from './user-cache';

/** {@link ProvisionerOptions} checked and defaulted: what `createProvisioner` runs on. */
export interface ProvisionerSettings {
  store: Store;
  issuers: IssuerConfig[];
  /** The issuers and token bounds as checked, for the verifier. */
  checkedIssuers: CheckedIssuers;
  /** Each issuer's username prefix (`oidc:${prefix}:${subject}`). */
  prefixes: ReadonlyMap<string, string>;
  defaultRole: string;
  autoCreate: boolean;
  policies: Policy[];
  hooks: Hook[];
  userEventHooks: UserEventHook[];
  logger: Logger;
  hookTimeoutMs: number;
  outboxMode: boolean;
  /** createUser mode, with the store's reservations; undefined in upsert mode. */
  createUser:
    | {
        create: (identity: Identity) => Promise<string>;
        reservations: ReservationStore;
        leaseMs: number;
        waitMs: number;
      }
    | undefined;
  /** The user cache's bounds, or false: no user cache. */
  userCache: { maxEntries: number; ttlMs: number } | false;
  /** How often `lastSeenAt` is written per user, or false: not recorded (off, or a store without `users`). */
  lastSeen: { intervalMs: number } | false;
  /** Issuers with a `roles` mapping: when it applies and which roles a token may carry. */
  roleMappings: RoleMappings;
  /** Everything else the authenticator takes from the provisioner's options (the token bounds are in `checkedIssuers`). */
  authenticator: Omit<
    AuthenticatorOptions,
    'issuers' | 'ensureUserExists' | 'logger' | 'clockToleranceSec' | 'maxTokenBytes'
  >;
}

const oneOf = <T extends string>(value: T | undefined, allowed: readonly T[], message: string) => {
  if (value !== undefined && !allowed.includes(value)) throw new ConfigurationError(message);
};

function jwksOptions(jwks: ProvisionerOptions['jwks']): JwksOptions {
  const out: JwksOptions = {};
  for (const key of ['cooldownMs', 'cacheMaxAgeMs', 'timeoutMs'] as const) {
    const value = jwks?.[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0)
      throw new ConfigurationError(`jwks.${key} must be a number ≥ 0`);
    out[key] = value;
  }
  return out;
}

/**
 * Check every option of `createProvisioner` up front (a ConfigurationError at start-up, never at the first
 * request) and fill in the defaults. The one list of the provisioner's option checks: each is made here or
 * by a validator of the option's own concern called from here. What `createProvisioner` still hands on
 * unchecked is named at the end of this function, with where it is checked.
 */
export function resolveProvisionerOptions(options: ProvisionerOptions): ProvisionerSettings {
  const store = checkStore(options.store);
  const logger = options.logger ?? consoleLogger;
  const issuers = options.issuers ?? [];
  const defaultRole = options.defaultRole ?? 'user';
  try {
    validateRole(defaultRole, 'defaultRole');
  } catch (err) {
    throw new ConfigurationError((err as Error).message);
  }
  oneOf(options.hookDelivery, ['inline', 'outbox'], "hookDelivery must be 'inline' or 'outbox'");
  const outboxMode = options.hookDelivery === 'outbox';
  if (outboxMode && store.outbox === undefined) {
    throw new ConfigurationError("hookDelivery 'outbox' needs a store with an outbox");
  }
  const createUser = createUserMode(options, store);
  oneOf(
    options.onProvisioningError,
    ['reject', 'continue'],
    "onProvisioningError must be 'reject' or 'continue'",
  );
  const roleMappings = checkRoleMappings(issuers, store);
  // Issuer names and username prefixes (identity/): present, listed once, prefixes well-formed and distinct.
  const prefixes = resolvePrefixes(issuers);
  const { userCache, tokenCache } = caches(options, logger);
  // A store without the lifecycle part has nowhere to record it: `lastSeen` is ignored (and not checked) then.
  const lastSeen =
    store.users === undefined || options.lastSeen === false
      ? false
      : {
          intervalMs: positive(
            options.lastSeen?.intervalMs,
            DEFAULT_LAST_SEEN_INTERVAL_MS,
            'lastSeen.intervalMs',
          ),
        };

  // Each trusted issuer's token settings (`audience`, `algorithms` and `secret`, `jwksUri`, `claims`,
  // `tenantClaim`, `roles`) and the token bounds (`clockToleranceSec`, `maxTokenBytes`), by token/'s own rules.
  const checkedIssuers = checkIssuers(issuers, {
    clockToleranceSec: options.clockToleranceSec,
    maxTokenBytes: options.maxTokenBytes,
    logger,
  });
  // Checked elsewhere, by design: `outbox` (lease and poll timings) by `createOutboxDispatcher`
  // (events/outbox.ts), a public factory checking its own options, when hooks run in outbox mode here.
  return {
    store,
    issuers,
    checkedIssuers,
    prefixes,
    defaultRole,
    autoCreate: options.autoCreate ?? true,
    policies: options.policies ?? [],
    hooks: options.onProvisioned ?? [],
    userEventHooks: options.onUserEvent ?? [],
    logger,
    hookTimeoutMs: positive(options.hookTimeoutMs, 10_000, 'hookTimeoutMs'),
    outboxMode,
    createUser,
    userCache,
    lastSeen,
    roleMappings,
    authenticator: {
      ...(options.onProvisioningError === undefined
        ? {}
        : { onProvisioningError: options.onProvisioningError }),
      ...jwksOptions(options.jwks),
      ...introspectionRate(options.introspectionRate),
      ...(tokenCache === undefined ? {} : { cache: tokenCache }),
    },
  };
}

function introspectionRate(
  rate: ProvisionerOptions['introspectionRate'],
): Pick<AuthenticatorOptions, 'introspectionRate'> {
  if (rate === undefined) return {};
  const perSecond = positive(rate.perSecond, 50, 'introspectionRate.perSecond');
  return {
    introspectionRate: { perSecond, burst: positive(rate.burst, 2 * perSecond, 'introspectionRate.burst') },
  };
}

function checkStore(store: Store): Store {
  if (typeof store !== 'object' || store === null || typeof store.lookup !== 'function') {
    throw new ConfigurationError('createProvisioner needs a `store`');
  }
  return store;
}

/** `createUser` mode needs the store's reservations; `reservation` bounds are checked either way. */
function createUserMode(options: ProvisionerOptions, store: Store): ProvisionerSettings['createUser'] {
  const leaseMs = positive(options.reservation?.leaseMs, 30_000, 'reservation.leaseMs');
  const waitMs = positive(options.reservation?.waitMs, 10_000, 'reservation.waitMs');
  if (options.createUser === undefined) return undefined;
  const { reservations } = store;
  if (typeof reservations?.reserve !== 'function') {
    throw new ConfigurationError('createUser mode needs a store with `reservations`');
  }
  return { create: options.createUser, reservations, leaseMs, waitMs };
}

/** Each issuer's `roles` mapping (token/role-claims.ts), and what `sync: 'login'` needs of the store. */
function checkRoleMappings(issuers: readonly IssuerConfig[], store: Store): RoleMappings {
  const roleMappings = new Map<string, { sync: 'login' | 'create'; allow: ReadonlySet<string> }>();
  for (const config of issuers) {
    if (config?.roles === undefined) continue;
    const { sync, allow } = compileRoles(config.roles, config.issuer);
    // A login's sync must not overwrite a local grant decided meanwhile: only `users.setRole` decides it atomically.
    if (sync === 'login' && store.users === undefined)
      throw new ConfigurationError(`roles of ${config.issuer}: sync 'login' needs a store with \`users\``);
    roleMappings.set(config.issuer, { sync, allow: new Set(allow) });
  }
  return roleMappings;
}

/** Both caches' bounds, checked here under the option's own name; the token cache's are passed on as given. */
function caches(
  options: ProvisionerOptions,
  logger: Logger,
): { userCache: ProvisionerSettings['userCache']; tokenCache: ProvisionerOptions['tokenCache'] } {
  // The deprecated `cache` set both caches; the new options win where given.
  const legacy = options.cache;
  if (legacy !== undefined)
    logger.warn(
      { option: 'cache' },
      '`cache` is deprecated and will be removed in the next minor version: use `userCache` and `tokenCache`',
    );
  const user = options.userCache ?? legacy ?? {};
  // Errors name the option the app wrote.
  const field = options.userCache === undefined && legacy !== undefined ? 'cache' : 'userCache';
  return {
    userCache:
      user === false
        ? false
        : {
            ttlMs: positive(user.ttlMs, DEFAULT_USER_CACHE.ttlMs, `${field}.ttlMs`),
            maxEntries: positive(user.maxEntries, DEFAULT_USER_CACHE.maxEntries, `${field}.maxEntries`),
          },
    tokenCache: checkTokenCache(
      options.tokenCache ?? legacy,
      options.tokenCache === undefined && legacy !== undefined ? 'cache' : 'tokenCache',
    ),
  };
}

function checkTokenCache(
  cache: TokenCacheOptions | false | undefined,
  field: string,
): TokenCacheOptions | false | undefined {
  if (cache === undefined || cache === false) return cache;
  for (const key of ['maxEntries', 'ttlMs', 'maxBytes'] as const) positive(cache[key], 1, `${field}.${key}`);
  return cache;
}
