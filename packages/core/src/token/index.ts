// The door of token/: what other folders of core may use from it.
export { DEFAULT_MAX_TOKEN_BYTES, nodeRequestHeaders, parseBearer, readBearerToken } from './bearer';
export { autoClientId, clientOf } from './clients';
export { createDiagnostics } from './diagnostics';
export { asCheckedIssuers, type CheckedIssuers, checkIssuers, DEFAULT_ALGORITHMS } from './issuers';
export { checkKeyUrl, discoverJwksUri, discoverMetadata, isLoopback, type JwksOptions } from './jwks';
export { BACKCHANNEL_LOGOUT_EVENT, type LogoutRequest } from './logout-token';
export { compileRoles } from './role-claims';
export { MAX_CLAIM_ITEMS, ownClaim, stringArray, tokenScopes } from './scopes';
export { createTokenCache, type TokenCache, type TokenCacheOptions, tokenKey } from './token-cache';
export {
  createTokenVerifier,
  identityFromClaims,
  type TokenVerifierOptions,
  type VerifiedToken,
} from './verifier';
