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
  /** For the policies' `findUser`. */
  store: Pick<Store, 'lookup'>;
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
 * const slowPath = createSlowPath({ store, policies, defaultRole: 'user', roleMappings, newUser, createRow, syncProviderRole, admission, announce });
 * const { user, created } = await slowPath(identity, users?.generation);
 * ```
 */
export function createSlowPath(options: SlowPathOptions): SlowPath {
  const { store, policies, defaultRole, roleMappings, newUser, createRow, syncProviderRole, announce } =
    options;
  const { admit, remember } = options.admission;
  return async (identity, generation) => {
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
    const providerRole = outcome.created ? undefined : roleToSync(roleMappings, outcome.user, identity);
    if (providerRole !== undefined && outcome.user.status !== 'disabled')
      outcome = { ...outcome, user: await syncProviderRole(outcome.user, providerRole) };
    const user = frozenUser(outcome.user);
    remember(user, generation);
    await announce(outcome, identity);
    // A racing login may have found a row an admin disabled meanwhile.
    admit(user);
    return { user, created: outcome.created, path: 'slow' };
  };
}
