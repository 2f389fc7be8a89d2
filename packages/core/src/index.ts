// `@jit-provision/core`: what an app author uses. Adapter and store authors import from
// `@jit-provision/core/adapter`; pure helpers stay internal.
export { type AdminApi, type AdminApiOptions, adminApi } from './admin-api';
export type { BulkInvitationResult, BulkJobProgress } from './admin-bulk';
export type { AdminAuth } from './admin-context';
export { configFromEnv, type EnvConfig } from './env';
export * from './errors';
export {
  type CreatedInvitation,
  type CreateInvitationInput,
  type CreateManyOptions,
  type CreateManyResult,
  createInvitationService,
  type InvitationMessage,
  type InvitationPreview,
  type InvitationSecret,
  type InvitationService,
  type InvitationServiceOptions,
  invitationStatus,
} from './invitations';
export type { JwksOptions } from './jwks';
export {
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
export type * from './provisioner-types';
export type * from './store';
export type { TokenCacheOptions } from './token-cache';
export type * from './types';
