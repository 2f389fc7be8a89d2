import { describe, expectTypeOf, it } from 'vitest';
import type {
  AuthClient,
  AuthResult,
  Claims,
  ClientAuthResult,
  Identity,
  IssuerClientsOptions,
  IssuerConfig,
  Provisioner,
  ProvisionerOptions,
  Store,
  UserAuthResult,
  UserRecord,
  UserRef,
} from './index';

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
  it('AuthResult is a discriminated union on kind: a person or a machine client', () => {
    expectTypeOf<AuthResult>().toEqualTypeOf<UserAuthResult | ClientAuthResult>();
    expectTypeOf<AuthResult['kind']>().toEqualTypeOf<'user' | 'client'>();
    expectTypeOf<UserAuthResult>().toEqualTypeOf<{
      kind: 'user';
      user: UserRecord | null;
      identity: Identity;
      claims: Claims;
      created: boolean;
    }>();
    expectTypeOf<ClientAuthResult>().toEqualTypeOf<{
      kind: 'client';
      client: AuthClient;
      user: null;
      identity: Identity;
      claims: Claims;
      created: false;
    }>();
    expectTypeOf<AuthClient>().toEqualTypeOf<{
      readonly id: string;
      readonly issuer: string;
      readonly scopes: readonly string[];
    }>();
    expectTypeOf<Provisioner['authenticate']>().returns.resolves.toEqualTypeOf<AuthResult>();
  });
  it('IssuerConfig.clients: detect auto or a predicate, provision a boolean', () => {
    expectTypeOf<IssuerConfig['clients']>().toEqualTypeOf<IssuerClientsOptions | undefined>();
    expectTypeOf<IssuerClientsOptions>().toEqualTypeOf<{
      detect?: 'auto' | ((claims: Readonly<Claims>) => boolean);
      provision?: boolean;
    }>();
  });
});
