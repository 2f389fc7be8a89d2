// `@jit-provision/core`: what an app author uses, named one by one (no `export *`: what is public is chosen
// here, not inherited). Adapter and store authors import `@jit-provision/core/adapter`; the admin API and
// the Kratos webhooks have their own subpaths (`/admin`, `/kratos`); the folders' other exports stay internal.
import { adminApi as adminApiOfSubpath } from './admin';
import { kratosWebhooks as kratosWebhooksOfSubpath } from './kratos';

// Kept one minor version at the root; they moved to `@jit-provision/core/admin` and `@jit-provision/core/kratos`.
export type { AdminApi, AdminApiOptions, AdminAuth, BulkInvitationResult, BulkJobProgress } from './admin';
export { configFromEnv, type EnvConfig } from './config';
export {
  type AnyJitProvisionError,
  type ClaimMismatch,
  ConfigurationError,
  type ErrorCode,
  ForbiddenError,
  INVITATION_ERROR_CODES,
  InsufficientScopeError,
  InvalidApiKeyError,
  InvalidFieldError,
  InvalidIdentityError,
  InvalidInvitationError,
  InvalidRequestError,
  InvalidTokenError,
  type InvalidTokenReason,
  type InvitationErrorCode,
  isJitProvisionError,
  JitProvisionError,
  type JitProvisionErrorOf,
  type JitProvisionErrorOptions,
  LastAdminError,
  MissingTokenError,
  NotFoundError,
  PayloadTooLargeError,
  type PolicyCode,
  PolicyRejectedError,
  RateLimitedError,
  ReservationConflictError,
  type ScimConflictAttribute,
  ScimConflictError,
  StoreUnavailableError,
  type StoreUnavailableReason,
  UnsupportedMediaTypeError,
  UntrustedIssuerError,
  UserDisabledError,
  UserExistsError,
  UserNotFoundError,
  UserNotProvisionedError,
} from './errors';
export { createOutboxDispatcher, type OutboxDispatcher, type OutboxDispatcherOptions } from './events';
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
export type {
  KratosWebhookHandler,
  KratosWebhookRequest,
  KratosWebhookResponse,
  KratosWebhooks,
  KratosWebhooksOptions,
} from './kratos';
export {
  type EmailDomainAllowlistOptions,
  emailDomainAllowlist,
  type InvitationRequiredOptions,
  invitationRequired,
} from './policies';
export {
  type CheckEntry,
  type CheckReport,
  createProvisioner,
  type DirectoryOptions,
  type DirectoryProvisioning,
  type DirectoryRoleMapping,
  type LifecycleChangeOptions,
  type ListUsersQuery,
  type OtelMeterProvider,
  type OtelTracerProvider,
  type PreProvisionInput,
  type Provisioner,
  type ProvisionerOptions,
  type ProvisionerStats,
  type ProvisionResult,
  type RequestOutcome,
  type TelemetryOptions,
  type UserCacheOptions,
  type UserLifecycle,
} from './provisioning';
export type {
  Invitation,
  InvitationStatus,
  InvitationStore,
  LogoutStore,
  NewInvitation,
  NewUser,
  OutboxEvent,
  OutboxStatus,
  OutboxStore,
  Reservation,
  ReservationStore,
  RevokedSession,
  ScimCompareOp,
  ScimElementFilterAttribute,
  ScimFilter,
  ScimGroupFilterAttribute,
  ScimGroupRecord,
  ScimGroupWrite,
  ScimMultiValued,
  ScimNewUser,
  ScimPage,
  ScimPageQuery,
  ScimStore,
  ScimUniqueAttribute,
  ScimUserFilterAttribute,
  ScimUserRecord,
  ScimUserWrite,
  Store,
  StoreCheckResult,
  StoreKey,
  UserChange,
  UserChangeFeed,
  UserChangeOptions,
  UserChangeStatus,
  UserChangeSubscribeOptions,
  UserEventInput,
  UserLifecycleStore,
  UserListQuery,
  UserPage,
  UserPatch,
} from './store';
export type { JwksOptions, TokenCacheOptions } from './token';
export type {
  AuthClient,
  AuthInput,
  AuthResult,
  ClaimName,
  Claims,
  ClientAuthResult,
  Hook,
  Identity,
  IntrospectionConfig,
  IntrospectionJwk,
  IssuerClientsOptions,
  IssuerConfig,
  Logger,
  Policy,
  PolicyContext,
  PolicyDecision,
  ProvisionedEvent,
  RoleMapping,
  RoleSource,
  UserAuthResult,
  UserEvent,
  UserEventHook,
  UserEventType,
  UserRecord,
  UserRef,
  UserStatus,
} from './types';
/**
 * @deprecated Import `adminApi` from `@jit-provision/core/admin` (or use your adapter's `adminApi`); the
 * root re-export is removed in the next minor version.
 */
export const adminApi: typeof adminApiOfSubpath = adminApiOfSubpath;
/**
 * @deprecated Import `kratosWebhooks` from `@jit-provision/core/kratos` (or use your adapter's
 * `kratosWebhooks`); the root re-export is removed in the next minor version.
 */
export const kratosWebhooks: typeof kratosWebhooksOfSubpath = kratosWebhooksOfSubpath;
