import { randomUUID } from 'node:crypto';
import { InvalidIdentityError, UserDisabledError, UserExistsError, UserNotProvisionedError } from '../errors';
import { createOutboxDispatcher, runHooks } from '../events';
import {
  defaultPrefix,
  profileChanges,
  userKey,
  usernameFor,
  validateIdentity,
  validateRole,
} from '../identity';
import { createLastSeen, createUserLifecycle, runChecks, validActor } from '../lifecycle';
import type { NewUser } from '../store';
import { createTelemetry } from '../telemetry';
import type { Identity, PolicyDecision, RoleSource, UserRecord, UserRef } from '../types';
import { createAuthenticator } from './authenticate';
import { createViaApp, type Outcome } from './create-user';
import { followChanges } from './invalidation';
import { resolveProvisionerOptions } from './options';
import type { Provisioner, ProvisionerOptions, ProvisionResult } from './types';
import { createUserCache, frozenUser } from './user-cache';

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
  // Wraps the store once (spans, lookup timing) only when OpenTelemetry is on; counters always.
  const telemetry = createTelemetry(options.telemetry, settings.store, settings.logger);
  const store = telemetry.traceStore(settings.store);
  const {
    defaultRole,
    autoCreate,
    policies,
    hooks,
    userEventHooks,
    logger,
    hookTimeoutMs,
    outboxMode,
    roleMappings,
  } = settings;
  const { prefixes } = settings;
  // Without local hooks the events wait for a dispatcher elsewhere (e.g. a worker process).
  const dispatcher =
    outboxMode && hooks.length + userEventHooks.length > 0
      ? createOutboxDispatcher(
          { ...options.outbox, store, hooks, userEventHooks, logger, hookTimeoutMs },
          telemetry,
        )
      : undefined;
  const users = settings.userCache === false ? undefined : createUserCache(settings.userCache);
  const seen = createLastSeen(store.users, settings.lastSeen, logger);
  // Whether the cache may serve: always without a feed; with one, only while it is up. Started here, not
  // awaited: the provisioner is usable at once, and its cache is bypassed until the feed is up.
  let serveCache = true;
  const sync =
    users !== undefined && store.changes !== undefined
      ? followChanges(
          store.changes,
          users,
          logger,
          (live) => {
            serveCache = live;
          },
          telemetry.invalidation,
        )
      : undefined;
  // One slow path per identity (and profile) per process; joiners share its result.
  const inflight = new Map<string, Promise<ProvisionResult>>();
  // Every invalidation bumps the cache's generation: a store read that started before one (a change
  // reported by the feed, a local disable) must not re-cache what it read.
  const invalidate = (ref: UserRef) => users?.invalidate(ref);
  const remember = (user: UserRecord, generation: number | undefined) => {
    if (users !== undefined && users.generation === generation) users.remember(user);
  };

  const createRow: (input: NewUser, identity: Identity) => Promise<Outcome> =
    settings.createUser === undefined
      ? (input) => store.upsert(input)
      : createViaApp({ store, logger, ...settings.createUser });

  const newUser = (
    identity: Identity,
    role: string,
    roleSource: RoleSource,
    actor: string | null = null,
  ): NewUser => ({
    issuer: identity.issuer,
    subject: identity.subject,
    username: usernameFor(prefixes.get(identity.issuer) ?? defaultPrefix(identity.issuer), identity.subject),
    role,
    roleSource,
    email: identity.email ?? null,
    name: identity.name ?? null,
    tenantId: identity.tenantId ?? null,
    ...(outboxMode ? { emitEvent: actor === null ? { identity } : { identity, actor } } : {}),
  });

  async function announce(outcome: Outcome, identity: Identity, actor: string | null = null): Promise<void> {
    if (outcome.created) telemetry.created();
    // Outbox mode: the event is already durable; only make its delivery prompt.
    if (outboxMode) {
      if (outcome.created) dispatcher?.nudge();
      return;
    }
    if (!outcome.created || hooks.length + userEventHooks.length === 0) return;
    const eventId = randomUUID();
    const { user } = outcome;
    const runs = { timeoutMs: hookTimeoutMs, logger, userId: user.id, telemetry };
    await Promise.all([
      runHooks(hooks, { eventId, user, identity }, runs),
      runHooks(
        userEventHooks,
        { type: 'user.provisioned', eventId, userId: user.id, user, actor, at: user.createdAt },
        { ...runs, label: 'onUserEvent' },
      ),
    ]);
  }

  /** Every path lets a user in through here: disabled users never pass, active ones are seen. */
  function admit(user: UserRecord): void {
    // `=== 'disabled'`, not `!== 'active'`: a custom store without the lifecycle has no status to refuse on.
    if (user.status === 'disabled') throw new UserDisabledError();
    seen?.(user);
  }

  async function settle(decisions: PolicyDecision[], outcome: Outcome | { error: unknown }): Promise<void> {
    for (const decision of decisions) await decision.settle?.(outcome);
  }

  /**
   * The provider's role this login must write, or undefined: none mapped, the issuer syncs at creation only,
   * the role is local, or the row already has it. The one rule for the cache, the fast and the slow path.
   */
  function roleToSync(user: UserRecord, identity: Identity): string | undefined {
    const role = identity.providerRole;
    if (role === undefined || user.roleSource === 'local') return undefined;
    if (role === user.role && user.roleSource === 'provider') return undefined;
    return roleMappings.get(identity.issuer)?.sync === 'login' ? role : undefined;
  }

  /** A direct caller may pass `providerRole` too: only a role the issuer's mapping allows is accepted. */
  function validated(input: Identity): Identity {
    const identity = validateIdentity(input);
    const role = identity.providerRole;
    if (role !== undefined && roleMappings.get(identity.issuer)?.allow.has(role) !== true)
      throw new InvalidIdentityError('providerRole', "providerRole must be one of the issuer's roles.allow");
    return identity;
  }

  async function slowPath(identity: Identity, generation: number | undefined): Promise<ProvisionResult> {
    const decisions: PolicyDecision[] = [];
    const context = { identity, findUser: () => store.lookup(identity) };
    let role = defaultRole;
    let source: RoleSource = 'default';
    let outcome: Outcome;
    try {
      for (const policy of policies) {
        const decision = await policy.beforeCreate(context);
        if (decision) {
          decisions.push(decision);
          if (decision.role !== undefined) {
            role = validateRole(decision.role);
            source = 'local';
          }
        }
      }
      // The issuer's mapping (opted into per issuer, bounded by `allow`) decides over a policy's role.
      if (identity.providerRole !== undefined) {
        role = identity.providerRole;
        source = 'provider';
      }
      outcome = await createRow(newUser(identity, role, source), identity);
    } catch (error) {
      await settle(decisions, { error });
      throw error;
    }
    await settle(decisions, outcome);
    // Another caller (or preProvision) created the row first: this login still brings its role up to date.
    const providerRole = outcome.created ? undefined : roleToSync(outcome.user, identity);
    if (providerRole !== undefined && outcome.user.status !== 'disabled')
      outcome = { ...outcome, user: await lifecycle.syncProviderRole(outcome.user, providerRole) };
    const user = frozenUser(outcome.user);
    remember(user, generation);
    await announce(outcome, identity);
    // A racing login may have found a row an admin disabled meanwhile.
    admit(user);
    return { user, created: outcome.created, path: 'slow' };
  }

  const timedSlowPath = telemetry.traceSlowPath(slowPath);

  async function resolve(identity: Identity): Promise<ProvisionResult> {
    const generation = users?.generation;
    const found = await store.lookup(identity);
    if (found === null) {
      if (!autoCreate) throw new UserNotProvisionedError();
      return timedSlowPath(identity, generation);
    }
    // A disabled user is refused before anything is written (their profile sync included), and cached so
    // that their next requests are refused without a store read.
    if (found.status === 'disabled') remember(frozenUser(found), generation);
    admit(found);
    const patch = profileChanges(found, identity);
    let row = patch === undefined ? found : await store.sync(found.id, patch);
    const providerRole = roleToSync(row, identity);
    if (providerRole !== undefined) row = await lifecycle.syncProviderRole(row, providerRole);
    const user = frozenUser(row);
    remember(user, generation);
    return { user, created: false, path: 'fast' };
  }

  // The one cache-hit rule, for ensureUserExists and for authenticate's synchronous hit path: a cached row
  // is served only while the token's email and name still match it (a change must reach the store).
  /**
   * The user a cache hit serves, or undefined when the request must go further: nothing cached, the feed
   * down, or a profile change to sync. A disabled user is served too, for the caller to refuse without a
   * store read. One rule for both hit paths (`ensureUserExists` and a cached token in `authenticate`).
   */
  function cachedUser(identity: Identity, key = userKey(identity)): UserRecord | undefined {
    const cached = serveCache ? users?.get(key) : undefined;
    if (cached === undefined || profileChanges(cached, identity) !== undefined) return undefined;
    // A token whose mapped role differs from the cached row's (a demotion at the provider) reaches the store.
    if (identity.providerRole !== undefined && roleToSync(cached, identity) !== undefined) return undefined;
    if (cached.status !== 'disabled') seen?.(cached);
    return cached;
  }

  // A cached token hands out the same frozen identity on every request: validate it and build its key once.
  const checked = new WeakMap<Identity, { identity: Identity; key: string }>();
  function cachedUserOfToken(frozen: Identity): UserRecord | undefined {
    let known = checked.get(frozen);
    if (known === undefined) {
      const identity = validated(frozen);
      known = { identity, key: userKey(identity) };
      if (Object.isFrozen(frozen)) checked.set(frozen, known);
    }
    const user = cachedUser(known.identity, known.key);
    // A disabled user takes the long way, where `ensureUserExists` refuses them (still without a store read).
    return user?.status === 'disabled' ? undefined : user;
  }

  // Not `async`: on every request, each extra async layer costs a promise and microtask turns.
  function ensureUserExists(input: Identity): Promise<ProvisionResult> {
    let identity: Identity;
    try {
      identity = validated(input);
    } catch (err) {
      return Promise.reject(err);
    }
    const key = userKey(identity);
    const cached = cachedUser(identity, key);
    telemetry.userCache(cached !== undefined);
    if (cached !== undefined) {
      if (cached.status === 'disabled') return Promise.reject(new UserDisabledError());
      return Promise.resolve({ user: cached, created: false, path: 'cache' });
    }
    const flightKey = `${key}\u0000${identity.email ?? ''}\u0000${identity.name ?? ''}\u0000${identity.providerRole ?? ''}`;
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

  async function preProvision(
    input: Parameters<Provisioner['preProvision']>[0],
    opts: Parameters<Provisioner['preProvision']>[1] = {},
  ): Promise<UserRecord> {
    const identity = validateIdentity(input);
    const role = validateRole(input.role ?? defaultRole);
    const actor = validActor(opts.actor);
    // Exclusive: look first so an existing row is not even synced; the create below settles a race.
    if (opts.exclusive === true && (await store.lookup(identity)) !== null) throw new UserExistsError();
    const outcome = await createRow(
      newUser(identity, role, input.role === undefined ? 'default' : 'local', actor),
      identity,
    );
    if (opts.exclusive === true && !outcome.created) throw new UserExistsError();
    let { user } = outcome;
    if (!outcome.created && input.role !== undefined && user.role !== role)
      user = await store.setRole(user.id, role);
    invalidate(user.id);
    await announce(outcome, identity, actor);
    return user;
  }

  const lifecycle = createUserLifecycle({
    store,
    defaultRole,
    outboxMode,
    nudge: () => dispatcher?.nudge(),
    userEventHooks,
    hookTimeoutMs,
    logger,
    forget: (user) => {
      invalidate(user.id);
      invalidate({ issuer: user.issuer, subject: user.subject });
    },
    providerManaged: (issuer) => roleMappings.get(issuer)?.sync === 'login',
  });
  const { syncProviderRole: _sync, ...lifecycleOperations } = lifecycle;

  const getUser = (ref: UserRef): Promise<UserRecord | null> =>
    typeof ref === 'string' ? store.getUser(ref) : store.lookup({ issuer: ref.issuer, subject: ref.subject });

  const ensure = telemetry.traceProvision(ensureUserExists);
  const authenticator = createAuthenticator({
    ...settings.authenticator,
    issuers: settings.issuers,
    ensureUserExists: ensure,
    telemetry,
    ...(users === undefined ? {} : { cachedUser: cachedUserOfToken }),
    logger,
  });

  // Started last, once every option is valid; it also delivers events left by a crashed process.
  dispatcher?.start();
  return {
    ensureUserExists: ensure,
    authenticate: authenticator.authenticate,
    authenticateCached: authenticator.cached,
    preProvision,
    getUser,
    ...lifecycleOperations,
    invalidate,
    check: () =>
      runChecks({ issuers: settings.issuers, store, timeoutMs: settings.authenticator.timeoutMs ?? 5_000 }),
    outbox: dispatcher,
    stats: telemetry.stats,
    async close() {
      await sync?.close();
      await dispatcher?.stop();
    },
  };
}
