import { UserExistsError } from '../errors';
import { validateIdentity, validateRole } from '../identity';
import type { Store } from '../store';
import type { Identity, RoleSource, UserRecord } from '../types';
import { validActor } from './fields';
import type { AdminKeeper } from './last-admin';
import type { UserLifecycle } from './types';

/** A creation's answer: the row, and whether this call created it. */
interface Created {
  user: UserRecord;
  created: boolean;
}

/** Who is pre-provisioned: the key, the profile, and a role (default: the provisioner's `defaultRole`). */
export interface PreProvisionInput {
  issuer: string;
  subject: string;
  email?: string;
  name?: string;
  role?: string;
  tenantId?: string;
}

/** What {@link createPreProvision} needs from the provisioner (which owns row creation and announcing). */
export interface PreProvisionOptions {
  store: Pick<Store, 'lookup'>;
  defaultRole: string;
  /** The lifecycle's `setRole`: an existing user's new role is a change like any other, with its event. */
  setRole: UserLifecycle['setRole'];
  /** Create the row as a login would (upsert, or createUser mode), or find the one a racer created. */
  create(identity: Identity, role: string, source: RoleSource, actor: string | null): Promise<Created>;
  /** Drop the user's cached row. */
  forget(userId: string): void;
  /** Count the creation and run its hooks (inline) or hurry its event (outbox); nothing for a found row. */
  announce(outcome: Created, identity: Identity, actor: string | null): Promise<void>;
  /** The provisioner's one queue of admin-removing changes, shared with the admin API. */
  keep: AdminKeeper;
}

/**
 * Build `preProvision`: create a user before their first login (e.g. with an elevated role). An existing
 * user keeps its row, unless `exclusive`: then `UserExistsError` and nothing changes. A given `role` that
 * differs from an existing user's is set through the lifecycle's `setRole` (a local role, `user.role_changed`
 * with `actor`), refused with `LastAdminError` (409 `last_admin`) when it would demote the only active admin.
 * A created user is announced with `actor`.
 *
 * @example
 * ```ts
 * const preProvision = createPreProvision({ store, defaultRole: 'user', create, forget, announce, keep });
 * await preProvision({ issuer, subject: 'f81d4fae', role: 'admin' }, { exclusive: true, actor: adminId });
 * ```
 */
export function createPreProvision(
  options: PreProvisionOptions,
): (input: PreProvisionInput, opts?: { exclusive?: boolean; actor?: string }) => Promise<UserRecord> {
  const { store, defaultRole, create, forget, announce, setRole, keep } = options;
  return async (input, opts = {}) => {
    const identity = validateIdentity(input);
    const role = validateRole(input.role ?? defaultRole);
    const actor = validActor(opts.actor);
    // Exclusive: look first so an existing row is not even synced; the create below settles a race.
    if (opts.exclusive === true && (await store.lookup(identity)) !== null) throw new UserExistsError();
    const outcome = await create(identity, role, input.role === undefined ? 'default' : 'local', actor);
    if (opts.exclusive === true && !outcome.created) throw new UserExistsError();
    let { user } = outcome;
    if (!outcome.created && input.role !== undefined && user.role !== role) {
      const options = actor === null ? { keepAdmin: true } : { actor, keepAdmin: true };
      // setRole writes nothing and emits nothing when a racing call already set this role.
      user = await keep(user.id, { role }, (current) => setRole(current.id, role, options));
    }
    forget(user.id);
    await announce(outcome, identity, actor);
    return user;
  };
}
