import { createOutboxDispatcher, type OutboxDispatcher } from '../events';
import {
  adminKeeperOf,
  createDirectoryFactory,
  createLastSeen,
  createPreProvision,
  createUserLifecycle,
  runChecks,
  storeAdminKeeper,
} from '../lifecycle';
import type { Store } from '../store';
import { createTelemetry, type Telemetry } from '../telemetry';
import type { UserRecord, UserRef } from '../types';
import { createAdmission } from './admission';
import { createAnnouncer } from './announce';
import { createAuthenticator } from './authenticate';
import { createEnsure } from './ensure';
import { createFirstLogin } from './first-login';
import { followChanges } from './invalidation';
import { createLogoutReceiver } from './logout';
import { newUserBuilder, rowCreator } from './new-user';
import { resolveProvisionerOptions } from './options';
import { sessionRevocationsFor } from './sessions';
import { createSlowPath } from './slow-path';
import type { Provisioner, ProvisionerOptions } from './types';
import { createUserCache } from './user-cache';

/** Outbox mode's dispatcher in this process; none without local hooks (a worker process delivers the events). */
function localDispatcher(
  settings: ReturnType<typeof resolveProvisionerOptions>,
  outbox: ProvisionerOptions['outbox'],
  store: Store,
  telemetry: Telemetry,
): OutboxDispatcher | undefined {
  const { hooks, userEventHooks, logger, hookTimeoutMs, outboxMode } = settings;
  if (!outboxMode || hooks.length + userEventHooks.length === 0) return undefined;
  return createOutboxDispatcher(
    { ...outbox, store, hooks, userEventHooks, logger, hookTimeoutMs },
    telemetry,
  );
}

/** `getUser` by id or by (issuer, subject), from the store, never the cache. */
const userGetter =
  (store: Store) =>
  (ref: UserRef): Promise<UserRecord | null> =>
    typeof ref === 'string' ? store.getUser(ref) : store.lookup({ issuer: ref.issuer, subject: ref.subject });

/**
 * Create the provisioner: the one object an app keeps to make sure every authenticated caller has a
 * local user row, created exactly once, keyed by (issuer, subject). This is the composition root: the
 * options are checked in `options.ts`, the request path lives in `ensure.ts` (cache → single flight →
 * lookup) and `slow-path.ts` (policies → create → settle → announce), token verification in
 * `authenticate.ts`, the operations on existing users in lifecycle/.
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
  const { defaultRole, hooks, userEventHooks, logger, hookTimeoutMs, outboxMode, roleMappings } = settings;
  const dispatcher = localDispatcher(settings, options.outbox, store, telemetry);
  const nudge = () => dispatcher?.nudge();
  const users = settings.userCache === false ? undefined : createUserCache(settings.userCache);
  const seen = createLastSeen(store.users, settings.lastSeen, logger);
  // Every invalidation bumps the cache's generation: a store read that started before one (a change
  // reported by the feed, a local disable) must not re-cache what it read.
  const invalidate = (ref: UserRef) => users?.invalidate(ref);
  const forget = (user: { id: string; issuer: string; subject: string }) => {
    invalidate(user.id);
    invalidate({ issuer: user.issuer, subject: user.subject });
  };

  // How every change is reported: by the lifecycle operations and by the directory's (SCIM) writes.
  const reporting = { outboxMode, nudge, userEventHooks, hookTimeoutMs, logger, forget };
  const { syncProviderRole, ...lifecycleOperations } = createUserLifecycle({
    store,
    defaultRole,
    ...reporting,
    providerManaged: (issuer) => roleMappings.get(issuer)?.sync === 'login',
  });
  const newUser = newUserBuilder(settings.prefixes, outboxMode);
  const createRow = rowCreator(store, settings.createUser, logger);
  const announce = createAnnouncer({ ...reporting, telemetry, hooks });
  const admission = createAdmission(users, seen);
  const slowPath = createSlowPath({
    store,
    autoCreate: settings.autoCreate,
    policies: settings.policies,
    defaultRole,
    roleMappings,
    newUser,
    createRow,
    syncProviderRole,
    admission,
    announce,
  });
  const ensurer = createEnsure({
    store,
    users,
    autoCreate: settings.autoCreate,
    roleMappings,
    seen,
    telemetry,
    admission,
    slowPath: telemetry.traceSlowPath(slowPath),
    firstLogin: createFirstLogin({ store, settings, newUser, admission, announce }),
    syncProviderRole,
  });
  // The cache serves always without a feed; with one, only while it is up. Started here, not awaited: the
  // provisioner is usable at once, and its cache is bypassed until the feed is up.
  const sync =
    users !== undefined && store.changes !== undefined
      ? followChanges(store.changes, users, logger, ensurer.setServing, telemetry.invalidation)
      : undefined;
  // One queue for the changes that could take the last admin away: preProvision's, and the admin API's.
  const keep = storeAdminKeeper(store);
  const preProvision = createPreProvision({
    keep,
    store,
    defaultRole,
    setRole: lifecycleOperations.setRole,
    create: (identity, role, source, actor) => createRow(newUser(identity, role, source, actor), identity),
    forget: invalidate,
    announce,
  });
  const getUser = userGetter(store);
  const directory = createDirectoryFactory({
    store,
    issuers: settings.issuers,
    prefixes: settings.prefixes,
    defaultRole,
    ...reporting,
    lifecycle: lifecycleOperations,
    announce,
  });

  const ensure = telemetry.traceProvision(ensurer.ensureUserExists);
  const sessions = sessionRevocationsFor(store, settings.issuers, logger);
  const authenticator = createAuthenticator({
    ...settings.authenticator,
    issuers: settings.checkedIssuers,
    ensureUserExists: ensure,
    telemetry,
    ...(users === undefined ? {} : { cachedUser: ensurer.cachedUserOfToken }),
    findUser: (identity) => settings.store.lookup({ issuer: identity.issuer, subject: identity.subject }),
    ...(sessions === undefined ? {} : { sessions }),
    logger,
  });

  // Started last, once every option is valid; it also delivers events left by a crashed process.
  dispatcher?.start();
  const provisioner: Provisioner = {
    ensureUserExists: ensure,
    authenticate: authenticator.authenticate,
    authenticateCached: authenticator.cached,
    receiveLogoutToken: createLogoutReceiver(store, sessions, authenticator, lifecycleOperations),
    preProvision,
    directory,
    getUser,
    ...lifecycleOperations,
    invalidate,
    check: () =>
      runChecks({ issuers: settings.issuers, store, timeoutMs: settings.authenticator.timeoutMs ?? 5e3 }),
    outbox: dispatcher,
    stats: telemetry.stats,
    async close() {
      await Promise.all([sync?.close(), sessions?.close()]);
      await dispatcher?.stop();
    },
  };
  adminKeeperOf(provisioner, () => keep); // the admin API's changeUserKeepingAdmin finds it there
  return provisioner;
}
