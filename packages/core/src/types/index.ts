import type { JWTPayload } from 'jose';

// Domain types only: what a user, an identity, a hook and a policy are. Options and the Provisioner
// interface live in provisioner-types.ts, so nothing here imports a module that imports this one.

/**
 * Who the caller is, as asserted by a trusted OIDC provider. Keyed by `(issuer, subject)`;
 * `email` and `name` are profile data synced on every login, never identity.
 */
export interface Identity {
  issuer: string;
  subject: string;
  email?: string | null | undefined;
  emailVerified?: boolean | undefined;
  name?: string | null | undefined;
  tenantId?: string | null | undefined;
  /**
   * The app role the issuer's `roles` mapping gives this token (computed once per verified token); absent when
   * the issuer maps no roles or the claim matched nothing and there is no `default`. Only a role listed in the
   * issuer's `roles.allow` is accepted here.
   */
  providerRole?: string | undefined;
  /**
   * The value of the issuer's `externalIdClaim` (Entra ID's `oid`, Okta's `sub`): what a SCIM user's
   * `externalId` equals, so the first login and a SCIM create end on one row (decision 0008). Absent when the
   * issuer sets no `externalIdClaim` or the token lacks it.
   */
  externalId?: string | undefined;
}

/**
 * Who decided a user's role: `provider` (the issuer's `roles` mapping, re-evaluated at login), `local` (`setRole`,
 * the CLI, the admin API, `preProvision` with a role, an invitation: never overwritten by a login or by SCIM),
 * `scim` (the SCIM groups mapping of `@jit-provision/scim`, re-evaluated at every membership change) or
 * `default` (nobody: the default role).
 */
export type RoleSource = 'provider' | 'local' | 'scim' | 'default';

/**
 * An issuer's opt-in mapping of a token claim to app roles (see docs/roles.md).
 *
 * @example
 * ```ts
 * const roles: RoleMapping = {
 *   claim: ['realm_access', 'roles'],          // Keycloak realm roles
 *   map: { 'app-admin': 'admin', 'app-editor': 'editor' },
 *   allow: ['admin', 'editor', 'user'],        // highest first; nothing else can ever be set from a claim
 *   default: 'user',                           // no match → 'user' (without it: the role is left alone)
 * };
 * ```
 */
export interface RoleMapping {
  /** Where the provider puts its roles or groups: a top-level name (taken literally) or a path into nested claims. */
  claim: ClaimName;
  /** Provider value → app role; every app role must be listed in `allow` (checked at start-up). */
  map: Record<string, string>;
  /** The only roles a claim can ever set, highest first: several matches pick the earliest listed. */
  allow: string[];
  /** `login` (default): re-evaluated at every login that reaches the store; `create`: at creation only. */
  sync?: 'login' | 'create';
  /** The role when the claim matches nothing (must be in `allow`); without it, no match leaves the role alone. */
  default?: string;
}

/** The local user row. */
export interface UserRecord {
  id: string;
  issuer: string;
  subject: string;
  /** `oidc:${prefix}:${subject}` */
  username: string;
  email: string | null;
  name: string | null;
  role: string;
  /** Who decided `role`: see {@link RoleSource}. */
  roleSource: RoleSource;
  tenantId: string | null;
  /**
   * The identity provider's own id of this person (the SCIM `externalId`, equal to the issuer's
   * `externalIdClaim`); unique per issuer. Null when the issuer sets no `externalIdClaim` and SCIM never wrote one.
   */
  externalId: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** `disabled` users are refused on every request (403 `user_disabled`) until enabled again. */
  status: UserStatus;
  /** When the user was last disabled; null while active. */
  disabledAt: Date | null;
  /** Tokens issued (`iat`) before this instant are refused (`revokeSessions`); null when never revoked. */
  tokensValidAfter: Date | null;
  /** Last authenticated request, written at most once per `lastSeen.intervalMs`; null when never recorded. */
  lastSeenAt: Date | null;
}

/** Where a user stands: only `active` users are let in. */
export type UserStatus = 'active' | 'disabled';

/** Every type of {@link UserEvent}. */
export type UserEventType =
  | 'user.provisioned'
  | 'user.disabled'
  | 'user.enabled'
  | 'user.deleted'
  | 'user.role_changed'
  | 'user.sessions_revoked';

/**
 * Something happened to a user. Delivered to `onUserEvent` hooks inline, or at least once through the outbox
 * (`hookDelivery: 'outbox'`), always with the same `eventId` for one change.
 *
 * - `user`: the row right after the change (inline), or as read at delivery (outbox); null once deleted.
 * - `actor`: who made the change, as the caller passed it (`{ actor }`); null for logins and when not given.
 * - `data`: `user.role_changed` → `{ from, to, source }`; `user.disabled` → `{ reason }` when one was given.
 */
export interface UserEvent {
  type: UserEventType;
  eventId: string;
  userId: string;
  user: UserRecord | null;
  actor: string | null;
  at: Date;
  data?: Record<string, unknown>;
}

/**
 * A side effect of any user change (audit log, SCIM push, revoking app sessions). A failing hook is logged
 * (inline) or retried (outbox) and never undoes the change.
 */
export type UserEventHook = (event: UserEvent) => void | Promise<void>;

/** Verified JWT claims. */
export type Claims = JWTPayload & Record<string, unknown>;

/**
 * What `authenticate` attaches to a request: a person ({@link UserAuthResult}, `kind: 'user'`) or a machine
 * client calling with a client-credentials token ({@link ClientAuthResult}, `kind: 'client'`). Narrow on `kind`.
 *
 * @example
 * ```ts
 * const auth = await provisioner.authenticate({ headers });
 * if (auth.kind === 'client') console.log('service', auth.client.id, auth.client.scopes);
 * else console.log('user', auth.user?.id);
 * ```
 */
export type AuthResult = UserAuthResult | ClientAuthResult;

/**
 * A person's request. `user` is null only with `onProvisioningError: 'continue'` during a store outage (every
 * guard refuses it); otherwise it is the local row, created on first login.
 */
export interface UserAuthResult {
  kind: 'user';
  user: UserRecord | null;
  identity: Identity;
  claims: Claims;
  created: boolean;
}

/**
 * A machine client's request (a client-credentials token the issuer's `clients` detection recognised): it is
 * authenticated but has no local row, so `user` is null and nothing was created, synced or recorded.
 */
export interface ClientAuthResult {
  kind: 'client';
  client: AuthClient;
  user: null;
  identity: Identity;
  claims: Claims;
  created: false;
}

/** The machine client behind a {@link ClientAuthResult}. Frozen: shared by every request with that token. */
export interface AuthClient {
  /** The OAuth client id (`client_id`, `azp`, `cid` or `appid`, as the provider marks it). */
  readonly id: string;
  /** The trusted issuer that signed the token. */
  readonly issuer: string;
  /** The token's scopes (`scope` and `scp`); empty when it has none or they have an unexpected shape. */
  readonly scopes: readonly string[];
}

/**
 * How an issuer's client-credentials tokens are told apart from people's (see docs/providers/):
 * - `detect: 'auto'` (default) recognises RFC 9068 (`client_id` equal to `sub`: Ory Hydra, most servers), Auth0
 *   (`gty: 'client-credentials'` with `sub` `<azp>@clients`), Okta (`cid` equal to `sub`, no `uid`), Entra ID
 *   (`idtyp: 'app'` with `azp`/`appid`, no `scp`) and Keycloak service accounts (`preferred_username`
 *   `service-account-<azp>` with `client_id` equal to `azp`); a function decides itself (only `true` is a client).
 * - `provision: true` keeps clients as user rows (the behaviour before detection existed); default false.
 *
 * @example
 * ```ts
 * const issuer: IssuerConfig = { issuer, audience: 'api', clients: { detect: (claims) => claims['typ'] === 'svc' } };
 * ```
 */
export interface IssuerClientsOptions {
  detect?: 'auto' | ((claims: Readonly<Claims>) => boolean);
  provision?: boolean;
}

/** The framework-neutral request `authenticate` reads. Header names are matched case-insensitively. */
export interface AuthInput {
  headers: Headers | Record<string, string | string[] | undefined>;
}

/** A trusted OIDC issuer. */
export interface IssuerConfig {
  /** Exact `iss` value, e.g. `https://auth.example.com/realms/main`. */
  issuer: string;
  /**
   * Expected `aud` (one or several); tokens for any other audience are refused. Required: an issuer
   * without it would accept tokens the IdP issued to any other application (a token for your billing
   * app would open your admin API). `false` opts out explicitly and logs a warning once at start-up.
   */
  audience?: string | string[] | false;
  /** JWKS URL; defaults to the `jwks_uri` of OIDC discovery at `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
  /**
   * Username prefix (`oidc:${prefix}:${sub}`); defaults per well-known provider (plus the realm or project when
   * two of one provider are trusted), else derived from the issuer's host, port and path.
   */
  prefix?: string;
  /** Allowed JWS algorithms; asymmetric only by default. */
  algorithms?: string[];
  /** Shared secret for HS* algorithms; HS* is refused unless this is set and `algorithms` names them. */
  secret?: string | Uint8Array;
  /** Claim holding the tenant id (default `tenant_id`); a path such as `['firebase', 'tenant']` reads a nested one. */
  tenantClaim?: ClaimName;
  /**
   * Where the profile claims are, when not at `email`, `email_verified` and `name`: e.g. Auth0's namespaced
   * custom claims, `{ email: 'https://example.com/email' }`. Only profile claims are mapped here; roles only
   * through `roles`.
   */
  claims?: { email?: ClaimName; emailVerified?: ClaimName; name?: ClaimName };
  /**
   * Opt in to roles from this provider's claims, bounded by `allow` (see {@link RoleMapping}). Without it,
   * no claim ever sets a role.
   */
  roles?: RoleMapping;
  /**
   * Machine clients (client-credentials tokens): recognised ones are authenticated as `kind: 'client'` without a
   * row, unless `provision: true`. See {@link IssuerClientsOptions}.
   */
  clients?: IssuerClientsOptions;
  /**
   * Accept OpenID Connect back-channel logout tokens from this issuer (`backchannelLogout` from
   * `@jit-provision/core/backchannel`): `clientId` is the client id the app registered with the provider,
   * the logout token's required `aud`. Without it, this issuer's logout tokens are refused.
   */
  backchannelLogout?: { clientId: string };
  /**
   * The claim that equals the SCIM `externalId` of this issuer's users (`@jit-provision/scim`): `oid` for
   * Entra ID, `sub` for Okta. A first login whose claim matches a row SCIM created binds to that row (one row,
   * one id, one `user.provisioned`), and a login's row is adopted by a later SCIM create. Email is never the link.
   */
  externalIdClaim?: string;
  /**
   * Accept this issuer's opaque access tokens (any bearer that is not a JWS) by asking its RFC 7662
   * introspection endpoint. See {@link IntrospectionConfig}. Without it, an opaque token is refused as
   * `invalid_token` (reason `malformed`).
   */
  introspection?: IntrospectionConfig;
  /**
   * Fetch the issuer's userinfo endpoint to fill a profile the access token lacks (no `email` or no `name`):
   * `'first-login'` once, when the user is about to be created; `'always'` also when a token is first seen
   * (at most once per token-cache period). Its `sub` must equal the token's, or the login is refused.
   * Default `false`: never.
   */
  userinfo?: 'first-login' | 'always' | false;
}

/**
 * How to introspect an issuer's opaque access tokens (RFC 7662). The endpoint is asked with
 * `token_type_hint=access_token`, authenticated as `clientId` with `clientSecret` (HTTP Basic,
 * `client_secret_basic`) or `privateKeyJwt` (RFC 7523 `private_key_jwt`, a signed assertion per call).
 */
export interface IntrospectionConfig {
  /** The introspection endpoint; defaults to discovery's `introspection_endpoint`. https (http on loopback only). */
  endpoint?: string;
  /** The client id this API authenticates to the introspection endpoint with. */
  clientId: string;
  /** Its secret (`client_secret_basic`). One of `clientSecret` and `privateKeyJwt` is required. */
  clientSecret?: string;
  /** Its private key as a JWK with `d` (`private_key_jwt`); `alg` defaults by key type (RS256, ES256…, EdDSA). */
  privateKeyJwt?: IntrospectionJwk;
  /**
   * Longest an active answer is reused, ms (default 60 s, at most 5 minutes, never past the token's `exp`):
   * how long a token revoked at the provider may still be accepted. `0`: introspect every request.
   */
  cacheTtlMs?: number;
  /**
   * How long an `active: false` answer is remembered, ms (default 0: not at all; at most 60 s). Off by
   * default so a flood of garbage cannot evict real entries nor pin a token the provider is about to accept.
   */
  negativeCacheMs?: number;
}

/** A private JSON Web Key (the fields jose's `importJWK` reads). */
export interface IntrospectionJwk {
  kty: string;
  alg?: string;
  kid?: string;
  crv?: string;
  d?: string;
  [parameter: string]: unknown;
}

/** A top-level claim name (taken literally, dots and slashes included), or a path into nested claims. */
export type ClaimName = string | readonly string[];

/** Context a side-effect hook receives. `eventId` is a stable idempotency key for receivers that dedupe. */
export interface ProvisionedEvent {
  eventId: string;
  user: UserRecord;
  identity: Identity;
}

/**
 * A first-signup side effect (welcome email, default resources, analytics). Runs once per created user,
 * never for returning users; a failing hook is reported and never un-creates the user.
 */
export type Hook = (event: ProvisionedEvent) => void | Promise<void>;

/** What a policy may decide about a user about to be created. */
export interface PolicyDecision {
  /** The role the new user gets (e.g. from an invitation). Never taken from token claims. */
  role?: string;
  /**
   * Called once the store answered: `created` false means another caller created the user first;
   * `error` means creation failed and the policy should undo what it did (e.g. un-consume an invitation).
   */
  settle?(outcome: { user: UserRecord; created: boolean } | { error: unknown }): void | Promise<void>;
}

/** A before-create gate. Runs only on the slow path, never for returning users. Throw `PolicyRejectedError` to refuse. */
export interface Policy {
  readonly name: string;
  // biome-ignore lint/suspicious/noConfusingVoidType: lets a policy that only throws omit a return.
  beforeCreate(context: PolicyContext): void | PolicyDecision | Promise<void | PolicyDecision>;
}

/** What a policy is told about the user about to be created. */
export interface PolicyContext {
  identity: Identity;
  /** Read this identity's user from the store now: a concurrent login may have created it meanwhile. */
  findUser(): Promise<UserRecord | null>;
}

/** Minimal logger; pino, console and most loggers fit. Tokens and secrets are never passed to it. */
export interface Logger {
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

/** A user key for cache invalidation and lookups: a user id, or the identity key. */
export type UserRef = string | { issuer: string; subject: string };
