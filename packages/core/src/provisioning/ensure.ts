import { UserDisabledError, UserNotProvisionedError } from '../errors';
import { profileChanges, userKey } from '../identity';
import type { Store } from '../store';
import type { Telemetry } from '../telemetry';
import type { Identity, UserRecord } from '../types';
import type { Admission } from './admission';
import type { FirstLogin } from './first-login';
import { type RoleMappings, roleToSync, validatedIdentity } from './provider-role';
import { createSingleFlight } from './single-flight';
import type { SlowPath } from './slow-path';
import type { ProvisionResult } from './types';
import { frozenUser, type UserCache } from './user-cache';

/** What {@link createEnsure} needs from the provisioner. */
export interface EnsureOptions {
  store: Store;
  /** The user cache; undefined when `userCache: false`. */
  users: UserCache | undefined;
  autoCreate: boolean;
  roleMappings: RoleMappings;
  /** The `lastSeenAt` recorder; undefined when not recorded. */
  seen: ((user: UserRecord) => void) | undefined;
  telemetry: Telemetry;
  admission: Admission;
  /** Run when the lookup finds no row (and `autoCreate` allows it). */
  slowPath: SlowPath;
  /** Lookup and creation in one store call, where nothing gates a creation; undefined: lookup → slow path. */
  firstLogin?: FirstLogin | undefined;
  /** The lifecycle's role sync, for a fast-path login whose provider role changed. */
  syncProviderRole(user: UserRecord, role: string): Promise<UserRecord>;
}

/** `ensureUserExists` and the synchronous cache read the authenticator's hit path shares with it. */
export interface Ensure {
  /** Cache → single flight → lookup (fast path) → slow path. */
  ensureUserExists(input: Identity): Promise<ProvisionResult>;
  /**
   * The user a cached token's identity is served, by the same rule as `ensureUserExists`' cache; undefined
   * for a miss and for a disabled user (who takes the long way, to be refused there without a store read).
   */
  cachedUserOfToken(frozen: Identity): UserRecord | undefined;
  /** Whether the cache may serve: always without a change feed; with one, only while it is up. */
  setServing(live: boolean): void;
}

/** The fast path's answer for a row the lookup found (see {@link foundRowAnswer}). */
type FoundRow = (
  found: UserRecord,
  identity: Identity,
  generation: number | undefined,
) => ProvisionResult | Promise<ProvisionResult>;

/**
 * The fast path's answer for a row the lookup found: refused when disabled, else the frozen row, after
 * syncing a changed profile or provider role. Not `async`: a row with nothing to sync (most logins) is
 * answered without another promise.
 */
function foundRowAnswer(options: EnsureOptions): FoundRow {
  const { store, roleMappings, syncProviderRole } = options;
  const { admit, remember } = options.admission;

  async function synced(
    found: UserRecord,
    identity: Identity,
    generation: number | undefined,
  ): Promise<ProvisionResult> {
    const patch = profileChanges(found, identity);
    let row = patch === undefined ? found : await store.sync(found.id, patch);
    const providerRole = roleToSync(roleMappings, row, identity);
    if (providerRole !== undefined) row = await syncProviderRole(row, providerRole);
    const user = frozenUser(row);
    remember(user, generation);
    return { user, created: false, path: 'fast' };
  }

  return (found, identity, generation) => {
    // A disabled user is refused before anything is written (their profile sync included), and cached so
    // that their next requests are refused without a store read.
    if (found.status === 'disabled') remember(frozenUser(found), generation);
    admit(found);
    if (
      profileChanges(found, identity) !== undefined ||
      roleToSync(roleMappings, found, identity) !== undefined
    )
      return synced(found, identity, generation);
    const user = frozenUser(found);
    remember(user, generation);
    return { user, created: false, path: 'fast' };
  };
}

/**
 * Build the request path of `ensureUserExists`: a cache hit (the one `cachedUser` rule), else one shared
 * flight per identity and profile in this process, else one indexed lookup (the fast path, syncing the
 * profile and a provider role), else the slow path. A disabled user is refused on every path.
 *
 * @example
 * ```ts
 * const ensure = createEnsure({ store, users, autoCreate: true, roleMappings, seen, telemetry, admission, slowPath, syncProviderRole });
 * const { user, created, path } = await ensure.ensureUserExists({ issuer, subject: 'f81d4fae' });
 * ```
 */
export function createEnsure(options: EnsureOptions): Ensure {
  const { store, users, autoCreate, roleMappings, seen, telemetry, slowPath, firstLogin } = options;
  const existing = foundRowAnswer(options);
  // Set by the change feed; a plain variable, read on every cache hit.
  let serving = true;
  const inProcess = store.inProcess === true;
  // One lookup (and slow path) per identity per process; joiners with the same profile share its result.
  const fly = createSingleFlight();

  async function resolve(identity: Identity): Promise<ProvisionResult> {
    const generation = users?.generation;
    const combined = firstLogin?.run(identity, generation);
    if (combined !== undefined) {
      const { existing: row, result } = await combined;
      // Created (cached and announced there): exactly this caller sees `created: true`.
      return result ?? existing(row, identity, generation);
    }
    const found = await store.lookup(identity);
    firstLogin?.observe(found);
    return found === null ? miss(identity, generation) : existing(found, identity, generation);
  }

  /** No row for this identity: the slow path (it creates one), or refused. */
  async function miss(identity: Identity, generation: number | undefined): Promise<ProvisionResult> {
    // A login with an externalId may find the row SCIM made for it (decision 0008), even without autoCreate.
    if (!autoCreate && identity.externalId === undefined) throw new UserNotProvisionedError();
    return slowPath(identity, generation);
  }

  /**
   * An in-process store's lookup, without the single flight (it saves no round trip there): a found row is
   * answered here; a miss takes the single flight to the slow path, so racing first logins share one.
   */
  function unflown(identity: Identity, key: string): Promise<ProvisionResult> {
    const generation = users?.generation;
    return store
      .lookup(identity)
      .then((found) =>
        found === null
          ? fly(identity, key, () => miss(identity, generation))
          : existing(found, identity, generation),
      );
  }

  /**
   * The user a cache hit serves, or undefined when the request must go further: nothing cached, the feed
   * down, or a profile change to sync. A disabled user is served too, for the caller to refuse without a
   * store read. The one cache-hit rule, for both hit paths (`ensureUserExists` and, through
   * `cachedUserOfToken`, a cached token in `authenticate`): a cached row is served only while the token's
   * email and name still match it (a change must reach the store).
   */
  function cachedUser(identity: Identity, key = userKey(identity)): UserRecord | undefined {
    const cached = serving ? users?.get(key) : undefined;
    if (cached === undefined || profileChanges(cached, identity) !== undefined) return undefined;
    // A token whose mapped role differs from the cached row's (a demotion at the provider) reaches the store.
    if (identity.providerRole !== undefined && roleToSync(roleMappings, cached, identity) !== undefined)
      return undefined;
    if (cached.status !== 'disabled') seen?.(cached);
    return cached;
  }

  // A cached token hands out the same frozen identity on every request: validate it and build its key once.
  const checked = new WeakMap<Identity, { identity: Identity; key: string }>();
  function cachedUserOfToken(frozen: Identity): UserRecord | undefined {
    let known = checked.get(frozen);
    if (known === undefined) {
      const identity = validatedIdentity(roleMappings, frozen);
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
      identity = validatedIdentity(roleMappings, input);
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
    return inProcess ? unflown(identity, key) : fly(identity, key, () => resolve(identity));
  }

  return {
    ensureUserExists,
    cachedUserOfToken,
    setServing(live) {
      serving = live;
    },
  };
}
