import type * as entry from '@jit-provision/testing';
import { describe, expectTypeOf, it } from 'vitest';

/**
 * What `@jit-provision/testing` exports as values: a new kit (or a leak) is a deliberate change here. That the
 * deprecated `@jit-provision/core/testing` exports the same is checked on the packed tarballs
 * (.ci/packed-conformance.sh), where it is a separate file.
 */
type Values =
  | 'KRATOS_TEST_API_KEY'
  | 'MAX_LENGTHS'
  | 'createBrokenStore'
  | 'deepJson'
  | 'hostileCases'
  | 'kratosContext'
  | 'runAdapterSuite'
  | 'runAdminApiSuite'
  | 'runBackchannelLogoutSuite'
  | 'runGuardSuite'
  | 'runHostileInputSuite'
  | 'runInvitationConformance'
  | 'runKratosWebhookSuite'
  | 'runRouteTableSuite'
  | 'runScimSteps'
  | 'runStoreConformance'
  | 'scimChecks'
  | 'scimStepLists'
  | 'sqlTextIdentities';

describe('@jit-provision/testing exports', () => {
  it('exactly the listed values', () => {
    expectTypeOf<keyof typeof entry>().toEqualTypeOf<Values>();
  });

  it('the option and app types every kit takes', () => {
    expectTypeOf<entry.StoreConformanceOptions<import('@jit-provision/core').Store>>().toHaveProperty(
      'createStore',
    );
    expectTypeOf<entry.AdapterSuiteOptions>().not.toBeNever();
    expectTypeOf<entry.GuardSuiteOptions<unknown>>().not.toBeNever();
    expectTypeOf<entry.HostileSuiteOptions>().not.toBeNever();
    expectTypeOf<entry.RouteTableSuiteOptions>().not.toBeNever();
    expectTypeOf<entry.AdminApiSuiteOptions>().not.toBeNever();
    expectTypeOf<entry.KratosWebhookSuiteOptions>().not.toBeNever();
    expectTypeOf<entry.BackchannelLogoutSuiteOptions>().not.toBeNever();
    expectTypeOf<entry.ScimStepsOptions>().toHaveProperty('steps');
    expectTypeOf<entry.ScimCase['steps'][number]>().toEqualTypeOf<entry.ScimStep>();
  });
});
