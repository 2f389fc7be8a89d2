import type { ScimFilter, ScimNewUser, ScimStore, ScimUserFilterAttribute, Store } from '@jit-provision/core';
import { afterEach, beforeEach } from 'vitest';
import type { StoreConformanceOptions } from './options';

let counter = 0;
const random = () => Math.random().toString(36).slice(2, 10);

/**
 * A fresh issuer per case: SCIM uniqueness (`userName`, `externalId`, group `displayName`) and every listing are
 * per issuer, so cases never see each other's rows on a shared, non-empty database.
 */
export function freshIssuer(): string {
  counter += 1;
  return `https://scim-${Date.now().toString(36)}-${counter}-${random()}.conformance.test`;
}

/** A value unique to this run (user names, external ids, usernames). */
export const unique = (label: string): string => {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}-${random()}`;
};

/** A well-formed id no store ever issued, and one that is not even a UUID (a SCIM URL can carry anything). */
export const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
export const NOT_A_UUID = 'no-such-id';

/** A SCIM create for `issuer`: unbound (no subject) unless `extra` says otherwise; role `user`. */
export function scimUser(issuer: string, extra: Partial<ScimNewUser> = {}): ScimNewUser {
  const userName = extra.userName ?? `${unique('user')}@example.com`;
  return {
    issuer,
    subject: null,
    userName,
    externalId: unique('ext'),
    attributes: { displayName: userName, emails: [{ value: userName, type: 'work', primary: true }] },
    email: userName,
    name: null,
    username: `scim:conf:${unique('row')}`,
    role: 'user',
    ...extra,
  };
}

/** `userName eq <value>`: the lookup every provider sends before a create. */
export const userNameEq = (value: string): ScimFilter<ScimUserFilterAttribute> => ({
  op: 'eq',
  attribute: 'userName',
  value,
});

/** The setup every group of the `scim` cases shares: a fresh store per case; skipped without `store.scim`. */
export function scimContext<S extends Store>(options: StoreConformanceOptions<S>) {
  let store: S;
  let scim: ScimStore;
  beforeEach(async (context) => {
    store = await options.createStore();
    if (store.scim === undefined) {
      context.skip('this store has no scim part');
      return;
    }
    scim = store.scim;
  });
  afterEach(async () => {
    await options.cleanup?.(store);
  });
  return {
    get store() {
      return store;
    },
    get scim() {
      return scim;
    },
  };
}

export type ScimContext<S extends Store> = ReturnType<typeof scimContext<S>>;
