import { randomUUID } from 'node:crypto';
import { createAuthenticator } from './authenticate';
import { ConfigurationError, isJitProvisionError, UserNotProvisionedError } from './errors';
import { runHooks } from './hooks';
import { validateIdentity, validateRole } from './identity';
import type { JwksOptions } from './jwks';
import { Lru } from './lru';
import { createOutboxDispatcher } from './outbox';
import { positive } from './positive';
import type { NewUser, Reservation, StoreKey } from './store';
import type {
  AuthInput,
  AuthResult,
  Identity,
  Logger,
  PolicyDecision,
  Provisioner,
  ProvisionerOptions,
  ProvisionResult,
  UserRecord,
  UserRef,
} from './types';
import { defaultPrefix, resolvePrefixes, usernameFor } from './username';

const DEFAULTS = {
  defaultRole: 'user',
  hookTimeoutMs: 10_000,
  leaseMs: 30_000,
  waitMs: 10_000,
  cacheEntries: 10_000,
  cacheTtlMs: 30_000,
};

const consoleLogger: Logger = {
  warn: (obj, msg) => console.warn(`[jit-provision] ${msg ?? ''}`, obj),
  error: (obj, msg) => console.error(`[jit-provision] ${msg ?? ''}`, obj),
};

type Outcome = { user: UserRecord; created: boolean };

const keyString = (key: StoreKey) => `${key.issuer}\u0000${key.subject}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Profile fields the identity carries that differ from the stored row; undefined when nothing changed. */
function profileChanges(user: UserRecord, identity: Identity): { email?: string; name?: string } | undefined {
  const patch: { email?: string; name?: string } = {};
  // A token without an email/name claim says nothing about them: only present values are synced.
  if (typeof identity.email === 'string' && identity.email !== user.email) patch.email = identity.email;
  if (typeof identity.name === 'string' && identity.name !== user.name) patch.name = identity.name;
  return patch.email === undefined && patch.name === undefined ? undefined : patch;
}

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
 * Create the provisioner: the one object an app keeps to make sure every authenticated caller has a
 * local user row, created exactly once, keyed by (issuer, subject).
 *
 * @example
 * ```ts
 * import { createProvisioner } from '@jit-provision/core';
 * import { createMemoryStore } from '@jit-provision/store-memory';
 *
 * const provisioner = createProvisioner({
 *   store: createMemoryStore(),
 *   issuers: [{ issuer: 'https://sso.example.com/realms/main', audience: 'my-api' }],
 *   onProvisioned: [async ({ user }) => mailer.sendWelcome(user.email)],
 * });
 * const { user, created } = await provisioner.ensureUserExists({ issuer: 'https://sso.example.com/realms/main', subject: 'f81d4fae' });
 * ```
 */
export function createProvisioner(options: ProvisionerOptions): Provisioner {
  const { store } = options;
  if (typeof store !== 'object' || store === null || typeof store.lookup !== 'function') {
    throw new ConfigurationError('createProvisioner needs a `store`');
  }
  const prefixes = resolvePrefixes(options.issuers ?? []);
  const defaultRole = options.defaultRole ?? DEFAULTS.defaultRole;
  try {
    validateRole(defaultRole, 'defaultRole');
  } catch (err) {
    throw new ConfigurationError((err as Error).message);
  }
  const autoCreate = options.autoCreate ?? true;
  const policies = options.policies ?? [];
  const hooks = options.onProvisioned ?? [];
  const logger = options.logger ?? consoleLogger;
  const hookTimeoutMs = positive(options.hookTimeoutMs, DEFAULTS.hookTimeoutMs, 'hookTimeoutMs');
  if (options.hookDelivery !== undefined && !['inline', 'outbox'].includes(options.hookDelivery)) {
    throw new ConfigurationError("hookDelivery must be 'inline' or 'outbox'");
  }
  const outboxMode = options.hookDelivery === 'outbox';
  if (outboxMode && store.outbox === undefined) {
    throw new ConfigurationError("hookDelivery 'outbox' needs a store with an outbox");
  }
  // Without local hooks the events wait for a dispatcher elsewhere (e.g. a worker process).
  const dispatcher =
    outboxMode && hooks.length > 0
      ? createOutboxDispatcher({ ...options.outbox, store, hooks, logger, hookTimeoutMs })
      : undefined;
  const leaseMs = positive(options.reservation?.leaseMs, DEFAULTS.leaseMs, 'reservation.leaseMs');
  const waitMs = positive(options.reservation?.waitMs, DEFAULTS.waitMs, 'reservation.waitMs');
  const { createUser } = options;
  if (
    options.onProvisioningError !== undefined &&
    !['reject', 'continue'].includes(options.onProvisioningError)
  ) {
    throw new ConfigurationError("onProvisioningError must be 'reject' or 'continue'");
  }

  const cacheTtlMs =
    options.cache === false ? 0 : positive(options.cache?.ttlMs, DEFAULTS.cacheTtlMs, 'cache.ttlMs');
  const users =
    options.cache === false
      ? undefined
      : new Lru<string, UserRecord>(
          positive(options.cache?.maxEntries, DEFAULTS.cacheEntries, 'cache.maxEntries'),
        );
  // userId → key, so invalidate(userId) and setRole can drop an entry without a store read.
  const keyById = new Map<string, string>();
  // One slow path per identity (and profile) per process; joiners share its result.
  const inflight = new Map<string, Promise<ProvisionResult>>();

  const remember = (user: UserRecord) => {
    if (users === undefined) return;
    const key = keyString(user);
    users.set(key, user, Date.now() + cacheTtlMs);
    keyById.set(user.id, key);
    // keyById outlives evicted entries; trim it alongside so it stays bounded too.
    if (keyById.size > users.size * 2 + 1024) {
      // `has`, not `get`: a scan must not refresh every entry's recency (or evict expired ones as a side effect).
      for (const [id, k] of keyById) if (!users.has(k)) keyById.delete(id);
    }
  };

  const invalidate = (ref: UserRef) => {
    if (users === undefined) return;
    const key = typeof ref === 'string' ? keyById.get(ref) : keyString(ref);
    if (key !== undefined) users.delete(key);
    if (typeof ref === 'string') keyById.delete(ref);
  };

  const newUser = (identity: Identity, role: string): NewUser => ({
    issuer: identity.issuer,
    subject: identity.subject,
    username: usernameFor(prefixes.get(identity.issuer) ?? defaultPrefix(identity.issuer), identity.subject),
    role,
    email: identity.email ?? null,
    name: identity.name ?? null,
    tenantId: identity.tenantId ?? null,
    ...(outboxMode ? { emitEvent: { identity } } : {}),
  });

  /** createUser mode: reserve → createUser → confirm; losers wait (bounded, with backoff) for the winner. */
  async function createViaApp(
    input: NewUser,
    identity: Identity,
    create: (i: Identity) => Promise<string>,
  ): Promise<Outcome> {
    const deadline = Date.now() + waitMs;
    let backoff = 10;
    for (;;) {
      let reservation: Reservation;
      try {
        reservation = await store.reserve(input, { leaseMs });
      } catch (err) {
        // By code, not class: the store may throw from another copy of core (an ESM app with a CJS store).
        if (!isJitProvisionError(err, 'reservation_conflict')) throw err;
        const winner = await store.lookup(input);
        if (winner !== null) return { user: winner, created: false };
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw err;
        await sleep(Math.min(remaining, backoff * (0.5 + Math.random())));
        backoff = Math.min(backoff * 2, 250);
        continue;
      }
      try {
        // A holder whose lease we just took over may have confirmed in between.
        const existing = await store.lookup(input);
        if (existing !== null) {
          await store.release(input, reservation);
          return { user: existing, created: false };
        }
        const userId = await create(identity);
        if (typeof userId !== 'string' || userId.length === 0 || userId.length > 255) {
          throw new ConfigurationError('createUser must resolve to a non-empty user id string (≤ 255 chars)');
        }
        return { user: await store.confirm(input, reservation, userId), created: true };
      } catch (err) {
        await store.release(input, reservation).catch((releaseError: unknown) => {
          logger.warn(
            { err: releaseError, issuer: input.issuer },
            'releasing a reservation failed; its lease will expire',
          );
        });
        throw err;
      }
    }
  }

  const createRow = (input: NewUser, identity: Identity): Promise<Outcome> =>
    createUser === undefined ? store.upsert(input) : createViaApp(input, identity, createUser);

  async function announce(outcome: Outcome, identity: Identity): Promise<void> {
    // Outbox mode: the event is already durable; only make its delivery prompt.
    if (outboxMode) {
      if (outcome.created) dispatcher?.nudge();
      return;
    }
    if (outcome.created && hooks.length > 0) {
      await runHooks(
        hooks,
        { eventId: randomUUID(), user: outcome.user, identity },
        { timeoutMs: hookTimeoutMs, logger },
      );
    }
  }

  async function settle(decisions: PolicyDecision[], outcome: Outcome | { error: unknown }): Promise<void> {
    for (const decision of decisions) await decision.settle?.(outcome);
  }

  async function slowPath(identity: Identity): Promise<ProvisionResult> {
    const decisions: PolicyDecision[] = [];
    let role = defaultRole;
    let outcome: Outcome;
    try {
      for (const policy of policies) {
        const decision = await policy.beforeCreate({ identity });
        if (decision) {
          decisions.push(decision);
          if (decision.role !== undefined) role = validateRole(decision.role);
        }
      }
      outcome = await createRow(newUser(identity, role), identity);
    } catch (error) {
      await settle(decisions, { error });
      throw error;
    }
    await settle(decisions, outcome);
    remember(outcome.user);
    await announce(outcome, identity);
    return { user: outcome.user, created: outcome.created, path: 'slow' };
  }

  async function resolve(identity: Identity): Promise<ProvisionResult> {
    const found = await store.lookup(identity);
    if (found === null) {
      if (!autoCreate) throw new UserNotProvisionedError();
      return slowPath(identity);
    }
    const patch = profileChanges(found, identity);
    const user = patch === undefined ? found : await store.sync(found.id, patch);
    remember(user);
    return { user, created: false, path: 'fast' };
  }

  // Not `async`: on every request, each extra async layer costs a promise and microtask turns.
  function ensureUserExists(input: Identity): Promise<ProvisionResult> {
    let identity: Identity;
    try {
      identity = validateIdentity(input);
    } catch (err) {
      return Promise.reject(err);
    }
    const key = keyString(identity);
    const cached = users?.get(key);
    if (cached !== undefined && profileChanges(cached, identity) === undefined) {
      return Promise.resolve({ user: cached, created: false, path: 'cache' });
    }
    const flightKey = `${key}\u0000${identity.email ?? ''}\u0000${identity.name ?? ''}`;
    const running = inflight.get(flightKey);
    if (running !== undefined) {
      // Exactly one caller sees `created: true`: the one that ran the slow path.
      return running.then((shared) => ({ ...shared, created: false }));
    }
    const done = () => inflight.delete(flightKey);
    const flight = resolve(identity).then(
      (result) => {
        done();
        return result;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
    inflight.set(flightKey, flight);
    return flight;
  }

  async function preProvision(input: Parameters<Provisioner['preProvision']>[0]): Promise<UserRecord> {
    const identity = validateIdentity(input);
    const role = validateRole(input.role ?? defaultRole);
    const outcome = await createRow(newUser(identity, role), identity);
    let { user } = outcome;
    if (!outcome.created && input.role !== undefined && user.role !== role)
      user = await store.setRole(user.id, role);
    invalidate(user.id);
    await announce(outcome, identity);
    return user;
  }

  async function setRole(userId: string, role: string): Promise<UserRecord> {
    const user = await store.setRole(userId, validateRole(role));
    invalidate(userId);
    return user;
  }

  const authenticate: (input: AuthInput) => Promise<AuthResult> = createAuthenticator({
    issuers: options.issuers ?? [],
    ensureUserExists,
    logger,
    ...(options.onProvisioningError === undefined
      ? {}
      : { onProvisioningError: options.onProvisioningError }),
    ...(options.clockToleranceSec === undefined ? {} : { clockToleranceSec: options.clockToleranceSec }),
    ...(options.maxTokenBytes === undefined ? {} : { maxTokenBytes: options.maxTokenBytes }),
    ...jwksOptions(options.jwks),
    ...(options.cache === undefined ? {} : { cache: options.cache }),
  });

  // Started last, once every option is valid; it also delivers events left by a crashed process.
  dispatcher?.start();
  return { ensureUserExists, authenticate, preProvision, setRole, invalidate, options, outbox: dispatcher };
}
