import { UserNotProvisionedError } from '../errors';
import { validateRole } from '../identity';
import type { Store } from '../store';
import type { Identity, Policy, PolicyDecision, RoleSource, UserRecord } from '../types';
import type { Admission } from './admission';
import type { Announce } from './announce';
import type { Outcome } from './create-user';
import type { NewUserBuilder, RowCreator } from './new-user';
import { type RoleMappings, roleToSync } from './provider-role';
import type { ProvisionResult } from './types';
import { frozenUser } from './user-cache';

/** The slow path of one identity; `generation` is the user cache's before the lookup that missed. */
export type SlowPath = (identity: Identity, generation: number | undefined) => Promise<ProvisionResult>;

/** What {@link createSlowPath} needs from the provisioner. */
export interface SlowPathOptions {
  /** For the policies' `findUser`, and `scim.bind` (a first login finds the row SCIM made for it). */
  store: Pick<Store, 'lookup' | 'scim'>;
  /** False: only a row SCIM made can be bound; nothing is created. */
  autoCreate: boolean;
  policies: readonly Policy[];
  defaultRole: string;
  roleMappings: RoleMappings;
  newUser: NewUserBuilder;
  createRow: RowCreator;
  /** The lifecycle's role sync (an atomic store write that keeps a local role, with its event). */
  syncProviderRole(user: UserRecord, role: string): Promise<UserRecord>;
  admission: Admission;
  announce: Announce;
}

/** Tell every policy that let the creation through how it ended (e.g. consume the invitation it checked). */
async function settle(decisions: PolicyDecision[], outcome: Outcome | { error: unknown }): Promise<void> {
  for (const decision of decisions) await decision.settle?.(outcome);
}

/**
 * Build the slow path, run when the lookup found no row: the policies gate the creation (and may pick a
 * role; an issuer's role mapping decides over them) → the row is created (upsert, or createUser mode) →
 * the policies' decisions are settled → the user is cached and the creation announced (hooks or outbox)
 * → a user an admin disabled meanwhile is still refused.
 *
 * @example
 * ```ts
 * const slowPath = createSlowPath({ store, autoCreate: true, policies, defaultRole: 'user', roleMappings, newUser, createRow, syncProviderRole, admission, announce });
 * const { user, created } = await slowPath(identity, users?.generation);
 * ```
 */
export function createSlowPath(options: SlowPathOptions): SlowPath {
  const { store, policies, defaultRole, roleMappings, newUser, createRow, syncProviderRole, announce } =
    options;
  const { admit, remember } = options.admission;

  // The row a SCIM create left for this person (decision 0008): bound to this login's subject, never created
  // here, so no policy gates it (the directory admitted them) and no second `user.provisioned` is announced.
  async function bound(identity: Identity): Promise<Outcome | undefined> {
    if (identity.externalId === undefined || store.scim === undefined) return undefined;
    const { username } = newUser(identity, defaultRole, 'default');
    const user = await store.scim.bind({ ...identity, externalId: identity.externalId, username });
    return user === null ? undefined : { user, created: false };
  }

  async function created(identity: Identity): Promise<Outcome> {
    if (!options.autoCreate) throw new UserNotProvisionedError();
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
    return outcome;
  }

  async function finish(
    identity: Identity,
    generation: number | undefined,
    first: Outcome,
  ): Promise<ProvisionResult> {
    let outcome = first;
    // Another caller (or preProvision) created the row first: this login still brings its role up to date.
    const providerRole = outcome.created ? undefined : roleToSync(roleMappings, outcome.user, identity);
    if (providerRole !== undefined && outcome.user.status !== 'disabled')
      outcome = { ...outcome, user: await syncProviderRole(outcome.user, providerRole) };
    const user = frozenUser(outcome.user);
    remember(user, generation);
    await announce(outcome, identity);
    // A racing login may have found a row an admin disabled meanwhile.
    admit(user);
    return { user, created: outcome.created, path: 'slow' };
  }

  return async (identity, generation) => {
    const outcome = (await bound(identity)) ?? (await created(identity));
    return finish(identity, generation, outcome);
  };
}
