export {
  type AdapterOutcome,
  type AdapterRequest,
  type AuthenticatorOptions,
  authenticateRequest,
  createAuthenticator,
  type JitProvisionOptions,
} from './authenticate';
export { DEFAULT_MAX_TOKEN_BYTES, nodeRequestHeaders, readBearerToken } from './bearer';
export { emailDomain, normaliseEmail, safeEqual } from './email';
export { configFromEnv, type EnvConfig } from './env';
export * from './errors';
export { type HttpResponse, toHttpResponse } from './http';
export { hasControlCharacters, validateIdentity, validateRole } from './identity';
export {
  type CreatedInvitation,
  type CreateInvitationInput,
  type CreateManyResult,
  createInvitationService,
  type InvitationMessage,
  type InvitationPreview,
  type InvitationSecret,
  type InvitationService,
  type InvitationServiceOptions,
} from './invitations';
export { createIssuerKeyResolver, type JwksOptions } from './jwks';
export {
  KRATOS_MAX_BODY_BYTES,
  type KratosWebhookHandler,
  type KratosWebhookRequest,
  type KratosWebhookResponse,
  type KratosWebhooks,
  type KratosWebhooksOptions,
  kratosWebhooks,
} from './kratos';
export { createOutboxDispatcher, type OutboxDispatcher, type OutboxDispatcherOptions } from './outbox';
export {
  type EmailDomainAllowlistOptions,
  emailDomainAllowlist,
  type InvitationRequiredOptions,
  invitationRequired,
} from './policies';
export { createProvisioner } from './provisioner';
export type * from './store';
export { createTokenBucket, type TokenBucket, type TokenBucketOptions } from './token-bucket';
export {
  createTokenCache,
  DEFAULT_TOKEN_CACHE,
  type TokenCache,
  type TokenCacheOptions,
} from './token-cache';
export type * from './types';
export { defaultPrefix, resolvePrefixes, usernameFor } from './username';
export {
  createTokenVerifier,
  DEFAULT_ALGORITHMS,
  identityFromClaims,
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedToken,
} from './verifier';
