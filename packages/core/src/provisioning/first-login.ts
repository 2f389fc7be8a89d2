import type { Store } from '../store';
import type { Identity, RoleSource, UserRecord } from '../types';
import type { Admission } from './admission';
import type { Announce } from './announce';
import type { NewUserBuilder } from './new-user';
import type { ProvisionerSettings } from './options';
import type { ProvisionResult } from './types';
import { frozenUser } from './user-cache';

/** What the combined step found: a row that existed (for the fast path's checks), or the creation, finished. */
export type Combined =
  | { existing: UserRecord; result?: undefined }
  | { existing?: undefined; result: ProvisionResult };

/** The combined step, and the estimate of how often a cache miss is a new user that picks it. */
export interface FirstLogin {
  /**
   * A cache miss's lookup and creation in one store call; undefined (synchronously) when the old path is the
   * one to take: an identity with an `externalId` (it may bind a row SCIM made), or while too few misses are
   * new users for the combined call to pay (see {@link NEW_SHARE_TO_COMBINE}).
   */
  run(identity: Identity, generation: number | undefined): Promise<Combined> | undefined;
  /** A plain lookup's outcome (null: a new user), so the estimate keeps learning while `run` stands aside. */
  observe(found: UserRecord | null): void;
}

/**
 * The share of recent cache misses that were new users above which the combined call is used. Measured on
 * store-postgres (bench/README.md, "Known gaps"; CPU of Node and Postgres per call, 10 in flight): for an
 * existing user the combined statement costs ~27 µs more than the lookup (115 → 142 µs: a skipped INSERT,
 * the extra parameters), for a new user it saves ~90 µs (366 → 275 µs: a whole lookup round trip); it pays
 * from ~23 % new users on.
 */
export const NEW_SHARE_TO_COMBINE = 0.2;
/** The estimate's memory: an exponential moving average over about this many misses. */
const WINDOW = 32;

/** What {@link createFirstLogin} needs from the provisioner. */
export interface FirstLoginOptions {
  store: Store;
  /** What gates a creation: `autoCreate` off, any policy, createUser mode (the app creates the row). */
  settings: Pick<ProvisionerSettings, 'autoCreate' | 'policies' | 'createUser' | 'defaultRole'>;
  newUser: NewUserBuilder;
  admission: Admission;
  announce: Announce;
}

/**
 * The one-round-trip first login: `store.lookupOrCreate` in place of `lookup` on a cache miss, when nothing
 * gates a creation (`autoCreate` on, no policies, upsert mode) and the store has the method; undefined
 * otherwise, and the provisioner keeps lookup → slow path. While most misses are existing users (caches off,
 * a restart), `run` stands aside for the cheaper lookup; the outcome is the same either way. The row is built as the slow path builds it with no
 * policy (the default role, or the issuer's mapped role), and a creation is finished as the slow path finishes
 * one: cached, announced once (hooks or outbox nudge), admitted.
 *
 * @example
 * ```ts
 * const firstLogin = createFirstLogin({ store, settings, newUser, admission, announce });
 * const combined = await firstLogin?.run(identity, users?.generation);
 * ```
 */
export function createFirstLogin(options: FirstLoginOptions): FirstLogin | undefined {
  const { store, newUser, announce } = options;
  const { admit, remember } = options.admission;
  const { autoCreate, policies, createUser, defaultRole } = options.settings;
  if (!autoCreate || policies.length > 0 || createUser !== undefined) return undefined;
  if (store.lookupOrCreate === undefined) return undefined;
  const lookupOrCreate = store.lookupOrCreate.bind(store);

  // Start as if every miss were new: a fresh process's misses are first logins as often as not, and a run of
  // existing users brings the estimate under the threshold within ~50 misses.
  let newShare = 1;
  const learn = (isNew: boolean) => {
    newShare += ((isNew ? 1 : 0) - newShare) / WINDOW;
  };

  async function combined(identity: Identity, generation: number | undefined): Promise<Combined> {
    // As the slow path with no policy: the issuer's mapping, when it gives a role, decides over the default.
    const source: RoleSource = identity.providerRole === undefined ? 'default' : 'provider';
    const outcome = await lookupOrCreate(newUser(identity, identity.providerRole ?? defaultRole, source));
    learn(outcome.created);
    if (!outcome.created) return { existing: outcome.user };
    const user = frozenUser(outcome.user);
    remember(user, generation);
    await announce(outcome, identity);
    admit(user);
    return { result: { user, created: true, path: 'slow' } };
  }

  return {
    run: (identity, generation) =>
      identity.externalId === undefined && newShare >= NEW_SHARE_TO_COMBINE
        ? combined(identity, generation)
        : undefined,
    observe: (found) => learn(found === null),
  };
}
