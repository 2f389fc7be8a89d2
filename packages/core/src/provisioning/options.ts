import { ConfigurationError } from '../errors';
import { validateRole } from '../identity';
import { consoleLogger, positive } from '../internal';
import type { ReservationStore, Store } from '../store';
import type { JwksOptions } from '../token';
import { compileRoles } from '../token';
import type { Hook, Identity, IssuerConfig, Logger, Policy, UserEventHook } from '../types';
import type { AuthenticatorOptions } from './authenticate';
import type { ProvisionerOptions } from './types';
import type { UserCacheOptions } from './user-cache';

/** {@link ProvisionerOptions} checked and defaulted: what `createProvisioner` runs on. */
export interface ProvisionerSettings {
  store: Store;
  issuers: IssuerConfig[];
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
  userCache: UserCacheOptions | false;
  /** Option name the user cache's bounds are reported under. */
  userCacheField: string;
  /** Issuers with a `roles` mapping: when it applies and which roles a token may carry. */
  roleMappings: ReadonlyMap<string, { sync: 'login' | 'create'; allow: ReadonlySet<string> }>;
  /** Everything the authenticator takes from the provisioner's options. */
  authenticator: Omit<AuthenticatorOptions, 'issuers' | 'ensureUserExists' | 'logger'>;
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
 * request) and fill in the defaults.
 */
export function resolveProvisionerOptions(options: ProvisionerOptions): ProvisionerSettings {
  const { store } = options;
  if (typeof store !== 'object' || store === null || typeof store.lookup !== 'function') {
    throw new ConfigurationError('createProvisioner needs a `store`');
  }
  const defaultRole = options.defaultRole ?? 'user';
  try {
    validateRole(defaultRole, 'defaultRole');
  } catch (err) {
    throw new ConfigurationError((err as Error).message);
  }
  const logger = options.logger ?? consoleLogger;
  oneOf(options.hookDelivery, ['inline', 'outbox'], "hookDelivery must be 'inline' or 'outbox'");
  const outboxMode = options.hookDelivery === 'outbox';
  if (outboxMode && store.outbox === undefined) {
    throw new ConfigurationError("hookDelivery 'outbox' needs a store with an outbox");
  }
  const leaseMs = positive(options.reservation?.leaseMs, 30_000, 'reservation.leaseMs');
  const waitMs = positive(options.reservation?.waitMs, 10_000, 'reservation.waitMs');
  let createUser: ProvisionerSettings['createUser'];
  if (options.createUser !== undefined) {
    const { reservations } = store;
    if (typeof reservations?.reserve !== 'function') {
      throw new ConfigurationError('createUser mode needs a store with `reservations`');
    }
    createUser = { create: options.createUser, reservations, leaseMs, waitMs };
  }
  oneOf(
    options.onProvisioningError,
    ['reject', 'continue'],
    "onProvisioningError must be 'reject' or 'continue'",
  );

  const roleMappings = new Map<string, { sync: 'login' | 'create'; allow: ReadonlySet<string> }>();
  for (const config of options.issuers ?? []) {
    if (config?.roles === undefined) continue;
    const { sync, allow } = compileRoles(config.roles, config.issuer);
    // A login's sync must not overwrite a local grant decided meanwhile: only `users.setRole` decides it atomically.
    if (sync === 'login' && store.users === undefined)
      throw new ConfigurationError(`roles of ${config.issuer}: sync 'login' needs a store with \`users\``);
    roleMappings.set(config.issuer, { sync, allow: new Set(allow) });
  }

  // The deprecated `cache` set both caches; the new options win where given.
  const legacy = options.cache;
  if (legacy !== undefined)
    logger.warn(
      { option: 'cache' },
      '`cache` is deprecated and will be removed in the next minor version: use `userCache` and `tokenCache`',
    );
  const tokenCache = options.tokenCache ?? legacy;

  return {
    store,
    issuers: options.issuers ?? [],
    defaultRole,
    autoCreate: options.autoCreate ?? true,
    policies: options.policies ?? [],
    hooks: options.onProvisioned ?? [],
    userEventHooks: options.onUserEvent ?? [],
    logger,
    hookTimeoutMs: positive(options.hookTimeoutMs, 10_000, 'hookTimeoutMs'),
    outboxMode,
    createUser,
    userCache: options.userCache ?? legacy ?? {},
    userCacheField: options.userCache === undefined && legacy !== undefined ? 'cache' : 'userCache',
    roleMappings,
    authenticator: {
      ...(options.onProvisioningError === undefined
        ? {}
        : { onProvisioningError: options.onProvisioningError }),
      ...(options.clockToleranceSec === undefined ? {} : { clockToleranceSec: options.clockToleranceSec }),
      ...(options.maxTokenBytes === undefined ? {} : { maxTokenBytes: options.maxTokenBytes }),
      ...jwksOptions(options.jwks),
      ...(tokenCache === undefined ? {} : { cache: tokenCache }),
    },
  };
}
