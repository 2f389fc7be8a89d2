import { type Store, UserNotFoundError, type UserRecord } from '@jit-provision/core';
import type { CliContext } from './config';
import { usageError } from './errors';

/** How a command names a user: `<ref>` (an id or a username) or `--issuer` with `--subject`. */
export interface RefInput {
  ref?: string | undefined;
  issuer?: string | undefined;
  subject?: string | undefined;
}

const USERNAME = /^oidc:[a-z0-9][a-z0-9_-]{0,31}:.+$/;

interface UsernameLookup {
  getUserByUsername(username: string): Promise<UserRecord | null>;
}

const readsUsernames = (store: Store): store is Store & UsernameLookup =>
  typeof (store as Partial<UsernameLookup>).getUserByUsername === 'function';

/**
 * The user a ref names, read from the store: an id (`getUser`), a username `oidc:{prefix}:{sub}` (the store's
 * `getUserByUsername`, store-postgres has it), or `--issuer`/`--subject` (`lookup`). Raises
 * `UserNotFoundError` (`user_not_found`, exit 1) when none matches, a usage error (exit 2) for a malformed ref.
 *
 * @example
 * ```ts
 * const user = await resolveUser(context, { ref: 'oidc:kcl:f81d4fae' });
 * ```
 */
export async function resolveUser(context: CliContext, input: RefInput): Promise<UserRecord> {
  const byKey = input.issuer !== undefined || input.subject !== undefined;
  if (byKey && input.ref !== undefined) throw usageError('give either <ref> or --issuer/--subject, not both');
  const provisioner = await context.provisioner();
  if (byKey) {
    if (input.issuer === undefined || input.subject === undefined) {
      throw usageError('--issuer and --subject go together');
    }
    const user = await provisioner.getUser({ issuer: input.issuer, subject: input.subject });
    if (user === null)
      throw new UserNotFoundError(`no user has issuer ${input.issuer} and subject ${input.subject}`);
    return user;
  }
  const ref = input.ref?.trim();
  if (ref === undefined || ref === '') {
    throw usageError('name a user: <id>, <username oidc:{prefix}:{sub}>, or --issuer URL --subject SUB');
  }
  let user = await provisioner.getUser(ref);
  if (user === null && USERNAME.test(ref)) {
    const store = await context.store().catch(() => undefined);
    if (store === undefined || !readsUsernames(store)) {
      throw usageError('this store cannot find users by username: give the user id or --issuer/--subject');
    }
    user = await store.getUserByUsername(ref);
  }
  if (user === null) throw new UserNotFoundError(`no user has the id or username ${ref}`);
  return user;
}
