// `@jit-provision/core/adapter`: what an adapter (or store) author needs, kept out of the app author's root.

export { type HttpResponse, toHttpResponse } from '../errors';
// Store authors: the key and the profile-sync rule every store must apply exactly as the provisioner does.
export { profileChanges, userKey } from '../identity';
export { DEFAULT_MAX_TOKEN_BYTES, nodeRequestHeaders, readBearerToken } from '../token';
export {
  type AdapterOutcome,
  type AdapterRequest,
  authenticateCachedRequest,
  authenticateRequest,
  type JitProvisionOptions,
} from './authenticate';
export {
  type ClaimsPredicate,
  defineGuards,
  type GuardCheck,
  type GuardedAuth,
  type GuardFactories,
  type GuardMatchOptions,
  MAX_GUARD_CLAIM_ITEMS,
  type RoleGuardOptions,
  requireClaims,
  requirePermissions,
  requireRole,
  requireScopes,
  requireUser,
} from './guards';
export { type NodeRequestLike, nodeAdapterRequest, nodeAuthRequest } from './node-request';
export {
  admitRoute,
  answerRoute,
  bodyErrorResponse,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_BODY_NODES,
  declaresBody,
  isFormMediaType,
  isJsonMediaType,
  KRATOS_MAX_BODY_BYTES,
  MAX_BODY_DEPTH,
  parseFormBody,
  type Route,
  type RouteAdmission,
  type RouteAuthRequest,
  type RouteMethod,
  type RouteRequest,
  type RouteResponse,
  readJsonBody,
  readRouteBody,
  routeAcceptsMediaType,
  routedPath,
  routeTakesBody,
  type SerializedRouteResponse,
  serializeRouteResponse,
  unmatchedRouteResponse,
} from './routes';
