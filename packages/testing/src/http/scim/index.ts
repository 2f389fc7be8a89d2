// The door of http/scim/: a runner for SCIM step lists, our lists written from the public descriptions of
// Okta's and Microsoft's SCIM test suites and of the requests their provisioning cycles send, and the checks
// they are written with.
import * as checks from './checks';
import { provisioningCycles } from './cycles';
import { entraComplexAndGarbage } from './entra-garbage';
import { entraUsersAndGroups } from './entra-reference';
import { oktaSpec } from './okta-spec';
import type { ScimCase } from './types';

export { runScimSteps } from './runner';
export type {
  ScimCase,
  ScimCaseResult,
  ScimCheck,
  ScimMethod,
  ScimReport,
  ScimRequest,
  ScimSend,
  ScimStep,
  ScimStepResponse,
  ScimStepResult,
  ScimStepsOptions,
  ScimVars,
} from './types';

/**
 * Our SCIM step lists, each a list of cases for {@link runScimSteps}:
 * - `oktaSpec`: every step of Okta's "SCIM 2.0 SPEC Test";
 * - `entraReference`: the user, group, complex-attribute and "garbage" cases of Microsoft's reference
 *   collection for Entra ID (AzureAD/SCIMReferenceCode);
 * - `entraCycle`, `oktaCycle`: the requests each provider sends in one provisioning cycle.
 *
 * Written in our words from the public descriptions of those suites and of the providers' documentation;
 * their original files are not part of this package.
 *
 * @example
 * ```ts
 * import { runScimSteps, scimStepLists } from '@jit-provision/testing';
 *
 * const report = await runScimSteps({ baseUrl: 'http://127.0.0.1:3000/scim/v2', token: 'a-32-byte-or-longer-bearer-token-value', steps: scimStepLists.all });
 * ```
 */
export const scimStepLists: Readonly<{
  oktaSpec: readonly ScimCase[];
  entraReference: readonly ScimCase[];
  entraCycle: readonly ScimCase[];
  oktaCycle: readonly ScimCase[];
  all: readonly ScimCase[];
}> = Object.freeze({
  oktaSpec,
  entraReference: [...entraUsersAndGroups, ...entraComplexAndGarbage],
  entraCycle: provisioningCycles.filter((c) => c.list === 'entra-cycle'),
  oktaCycle: provisioningCycles.filter((c) => c.list === 'okta-cycle'),
  all: [...oktaSpec, ...entraUsersAndGroups, ...entraComplexAndGarbage, ...provisioningCycles],
});

/**
 * The checks our lists are written with, for lists of your own: `field`, `present`, `listResponse`,
 * `scimError`, `resource`, `scimJson`, `listHas`, `everyResource`, `projected`, `members`, `email`, `active`,
 * and the `SCHEMAS` URNs.
 *
 * @example
 * ```ts
 * import { scimChecks, type ScimCase } from '@jit-provision/testing';
 *
 * const mine: ScimCase = {
 *   list: 'mine',
 *   name: 'the service provider config says PATCH is supported',
 *   steps: [{ name: 'GET it', method: 'GET', path: '/ServiceProviderConfig', status: 200, checks: [scimChecks.field('patch.supported', true)] }],
 * };
 * ```
 */
export const scimChecks = Object.freeze({ ...checks });
