import { randomUUID } from 'node:crypto';
import { createAuthenticator } from './authenticate';
import { createViaApp, type Outcome } from './create-user';
import { UserNotProvisionedError } from './errors';
import { runHooks } from './hooks';
import { validateIdentity, validateRole } from './identity';
import { createOutboxDispatcher } from './outbox';
import { profileChanges, userKey } from './profile';
import { resolveProvisionerOptions } from './provisioner-options';
import type { Provisioner, ProvisionerOptions, ProvisionResult } from './provisioner-types';
import type { NewUser } from './store';
import type { AuthInput, AuthResult, Identity, PolicyDecision, UserRecord } from './types';
import { createUserCache, type UserRef } from './user-cache';
import { defaultPrefix, resolvePrefixes, usernameFor } from './username';

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
  const settings = resolveProvisionerOptions(options);
  const { store, defaultRole, autoCreate, policies, hooks, logger, hookTimeoutMs, outboxMode } = settings;
  const prefixes = resolvePrefixes(settings.issuers);
  // Without local hooks the events wait for a dispatcher elsewhere (e.g. a worker process).
  const dispatcher =
    outboxMode && hooks.length > 0
      ? createOutboxDispatcher({ ...options.outbox, store, hooks, logger, hookTimeoutMs })
      : undefined;
  const users =
    settings.userCache === false ? undefined : createUserCache(settings.userCache, settings.userCacheField);
  // One slow path per identity (and profile) per process; joiners share its result.
  const inflight = new Map<string, Promise<ProvisionResult>>();

  const createRow: (input: NewUser, identity: Identity) => Promise<Outcome> =
    settings.createUser === undefined
      ? (input) => store.upsert(input)
      : createViaApp({ store, logger, ...settings.createUser });

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
    const context = { identity, findUser: () => store.lookup(identity) };
    let role = defaultRole;
    let outcome: Outcome;
    try {
      for (const policy of policies) {
        const decision = await policy.beforeCreate(context);
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
    users?.remember(outcome.user);
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
    users?.remember(user);
    return { user, created: false, path: 'fast' };
  }

  // The one cache-hit rule, for ensureUserExists and for authenticate's synchronous hit path: a cached row
  // is served only while the token's email and name still match it (a change must reach the store).
  function cachedUser(identity: Identity, key = userKey(identity)): UserRecord | undefined {
    const cached = users?.get(key);
    return cached !== undefined && profileChanges(cached, identity) === undefined ? cached : undefined;
  }

  // A cached token hands out the same frozen identity on every request: validate it and build its key once.
  const checked = new WeakMap<Identity, { identity: Identity; key: string }>();
  function cachedUserOfToken(frozen: Identity): UserRecord | undefined {
    let known = checked.get(frozen);
    if (known === undefined) {
      const identity = validateIdentity(frozen);
      known = { identity, key: userKey(identity) };
      if (Object.isFrozen(frozen)) checked.set(frozen, known);
    }
    return cachedUser(known.identity, known.key);
  }

  // Not `async`: on every request, each extra async layer costs a promise and microtask turns.
  function ensureUserExists(input: Identity): Promise<ProvisionResult> {
    let identity: Identity;
    try {
      identity = validateIdentity(input);
    } catch (err) {
      return Promise.reject(err);
    }
    const key = userKey(identity);
    const cached = cachedUser(identity, key);
    if (cached !== undefined) return Promise.resolve({ user: cached, created: false, path: 'cache' });
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
    users?.invalidate(user.id);
    await announce(outcome, identity);
    return user;
  }

  async function setRole(userId: string, role: string): Promise<UserRecord> {
    const user = await store.setRole(userId, validateRole(role));
    users?.invalidate(userId);
    return user;
  }

  const getUser = (ref: UserRef): Promise<UserRecord | null> =>
    typeof ref === 'string' ? store.getUser(ref) : store.lookup({ issuer: ref.issuer, subject: ref.subject });

  const authenticate: (input: AuthInput) => Promise<AuthResult> = createAuthenticator({
    ...settings.authenticator,
    issuers: settings.issuers,
    ensureUserExists,
    ...(users === undefined ? {} : { cachedUser: cachedUserOfToken }),
    logger,
  });

  // Started last, once every option is valid; it also delivers events left by a crashed process.
  dispatcher?.start();
  return {
    ensureUserExists,
    authenticate,
    preProvision,
    setRole,
    getUser,
    invalidate: (ref) => users?.invalidate(ref),
    outbox: dispatcher,
  };
}
