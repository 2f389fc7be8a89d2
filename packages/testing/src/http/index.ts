// The door of http/: the suites an adapter author runs against a framework's app.
export {
  type AdapterSuiteOptions,
  type AdapterTestApp,
  type AdapterTestResponse,
  runAdapterSuite,
} from './adapter-suite';
export {
  type AdminApiSuiteOptions,
  type AdminTestApp,
  type AdminTestRequest,
  type AdminTestResponse,
  runAdminApiSuite,
} from './admin';
export { type BackchannelLogoutSuiteOptions, runBackchannelLogoutSuite } from './backchannel';
export { type GuardSuiteOptions, type GuardTestRoute, runGuardSuite } from './guard-suite';
export {
  type HostileCase,
  type HostileContext,
  type HostileSuiteOptions,
  type HostileTestServer,
  hostileCases,
  runHostileInputSuite,
  sqlTextIdentities,
} from './hostile';
export {
  KRATOS_TEST_API_KEY,
  type KratosTestPost,
  type KratosTestResponse,
  type KratosWebhookSuiteOptions,
  kratosContext,
  runKratosWebhookSuite,
} from './kratos';
export {
  deepJson,
  type RouteTableSuiteOptions,
  type RouteTestResponse,
  type RouteTestSend,
  runRouteTableSuite,
} from './routes';
export {
  runScimSteps,
  type ScimCase,
  type ScimCaseResult,
  type ScimCheck,
  type ScimMethod,
  type ScimReport,
  type ScimRequest,
  type ScimSend,
  type ScimStep,
  type ScimStepResponse,
  type ScimStepResult,
  type ScimStepsOptions,
  type ScimVars,
  scimChecks,
  scimStepLists,
} from './scim';
