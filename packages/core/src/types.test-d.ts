import { describe, expectTypeOf, it } from 'vitest';
import type { Provisioner, ProvisionerOptions, Store, UserRecord, UserRef } from './index';

describe('core public option types', () => {
  it('splits the caches, keeps the deprecated cache', () => {
    expectTypeOf<ProvisionerOptions['userCache']>().toEqualTypeOf<
      { maxEntries?: number; ttlMs?: number } | false | undefined
    >();
    expectTypeOf<ProvisionerOptions['tokenCache']>().toEqualTypeOf<
      { maxEntries?: number; ttlMs?: number; maxBytes?: number } | false | undefined
    >();
    expectTypeOf<ProvisionerOptions>().toHaveProperty('cache');
  });
  it('has no public options on the provisioner, and a getUser read', () => {
    expectTypeOf<Provisioner>().not.toHaveProperty('options');
    expectTypeOf<Provisioner['getUser']>().toEqualTypeOf<(ref: UserRef) => Promise<UserRecord | null>>();
    expectTypeOf<UserRef>().toEqualTypeOf<string | { issuer: string; subject: string }>();
  });
  it('makes reservations an optional store part', () => {
    expectTypeOf<Store>().toHaveProperty('reservations');
    expectTypeOf<Store>().not.toHaveProperty('reserve');
    expectTypeOf<undefined>().toMatchTypeOf<Store['reservations']>();
  });
});
