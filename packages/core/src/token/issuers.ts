import { ConfigurationError } from '../errors';
import { consoleLogger, positive } from '../internal';
import type { ClaimName, IssuerConfig, Logger } from '../types';
import { DEFAULT_MAX_TOKEN_BYTES } from './bearer';
import { checkClients } from './clients';
import { type CheckedIntrospection, checkIntrospection } from './introspection-config';
import { checkKeyUrl } from './jwks';
import { compileRoles } from './role-claims';

/** Asymmetric algorithms accepted when an issuer names none. `none` is never accepted. */
export const DEFAULT_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

/** One trusted issuer whose settings {@link checkIssuers} checked, with the algorithms its tokens may use. */
export interface CheckedIssuer {
  readonly config: IssuerConfig;
  readonly algorithms: readonly string[];
  /** Its `introspection`, checked and defaulted; undefined when its opaque tokens are refused. */
  readonly introspection?: CheckedIntrospection | undefined;
}

/** What a verifier runs on: every trusted issuer and the token bounds, checked once, at start-up. */
export interface CheckedIssuers {
  readonly issuers: readonly CheckedIssuer[];
  /** Leeway for `exp`/`nbf`/`iat`, seconds. */
  readonly clockToleranceSec: number;
  /** Largest accepted token, bytes. */
  readonly maxTokenBytes: number;
}

/** The token settings of the provisioner's options that {@link checkIssuers} checks beside the issuers. */
export interface TokenSettings {
  clockToleranceSec?: number | undefined;
  maxTokenBytes?: number | undefined;
  /** Where the start-up warning of an issuer with `audience: false` goes (default: console). */
  logger?: Logger | undefined;
}

/**
 * Check every trusted issuer's settings (name, `audience`, `algorithms` and `secret`, `claims`, `tenantClaim`,
 * `roles`, `jwksUri` or an issuer URL to discover keys from) and the token bounds (`clockToleranceSec`,
 * `maxTokenBytes`): a {@link ConfigurationError} at start-up, never at the first request. An issuer with
 * `audience: false` is accepted with a warning. The provisioner's option checks (provisioning/options.ts) call
 * this; so does a verifier built from raw configurations.
 *
 * @example
 * ```ts
 * const checked = checkIssuers([{ issuer: 'https://sso.example.com/realms/main', audience: 'api' }], { logger });
 * const verifier = createTokenVerifier(checked);
 * ```
 */
export function checkIssuers(issuers: readonly IssuerConfig[], settings: TokenSettings = {}): CheckedIssuers {
  const clockToleranceSec = settings.clockToleranceSec ?? 5;
  if (!Number.isFinite(clockToleranceSec) || clockToleranceSec < 0 || clockToleranceSec > 300) {
    throw new ConfigurationError('clockToleranceSec must be between 0 and 300');
  }
  const maxTokenBytes = positive(settings.maxTokenBytes, DEFAULT_MAX_TOKEN_BYTES, 'maxTokenBytes');
  const logger = settings.logger ?? consoleLogger;
  const checked = issuers.map((config) => checkIssuer(config, logger));
  return { issuers: checked, clockToleranceSec, maxTokenBytes };
}

/**
 * The issuers as a verifier runs on them: already checked ones as they are, raw configurations checked now
 * (a verifier or authenticator built directly, as tests and benchmarks do).
 */
export function asCheckedIssuers(
  issuers: readonly IssuerConfig[] | CheckedIssuers,
  settings: TokenSettings = {},
): CheckedIssuers {
  return isChecked(issuers) ? issuers : checkIssuers(issuers, settings);
}

const isChecked = (issuers: readonly IssuerConfig[] | CheckedIssuers): issuers is CheckedIssuers =>
  !Array.isArray(issuers);

function checkIssuer(config: IssuerConfig, logger: Logger): CheckedIssuer {
  if (typeof config?.issuer !== 'string' || config.issuer.length === 0) {
    throw new ConfigurationError('every issuer needs a non-empty `issuer`');
  }
  checkAudience(config, logger);
  const algorithms = allowedAlgorithms(config);
  checkClaimName(config.tenantClaim, `tenantClaim of ${config.issuer}`);
  for (const field of ['email', 'emailVerified', 'name'] as const) {
    checkClaimName(config.claims?.[field], `claims.${field} of ${config.issuer}`);
  }
  if (config.roles !== undefined) compileRoles(config.roles, config.issuer);
  checkClients(config);
  checkBackchannel(config);
  const introspection = checkIntrospection(config);
  if (config.jwksUri !== undefined) {
    try {
      checkKeyUrl(config.jwksUri, 'jwksUri');
    } catch {
      throw new ConfigurationError(
        `jwksUri of ${config.issuer} must be an https URL (http only on loopback)`,
      );
    }
  } else if (algorithms.some((alg) => !HMAC_ALGORITHMS.includes(alg))) {
    try {
      new URL(config.issuer);
    } catch {
      throw new ConfigurationError(`issuer ${config.issuer} is not a URL; set \`jwksUri\``);
    }
  }
  return { config, algorithms, introspection };
}

function checkBackchannel(config: IssuerConfig): void {
  const options = config.backchannelLogout;
  if (options === undefined) return;
  const id = (options as { clientId?: unknown } | null)?.clientId;
  if (typeof id !== 'string' || id.length === 0 || id.length > 255) {
    throw new ConfigurationError(
      `backchannelLogout.clientId of ${config.issuer} must be the client id registered with the provider (1-255 characters)`,
    );
  }
}

function allowedAlgorithms(config: IssuerConfig): string[] {
  const algorithms = config.algorithms ?? [...DEFAULT_ALGORITHMS];
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new ConfigurationError(`algorithms of ${config.issuer} must be a non-empty list`);
  }
  for (const alg of algorithms) {
    if (HMAC_ALGORITHMS.includes(alg)) {
      // A shared secret is the only sound HMAC key; without one, HS* would invite key confusion.
      if (config.secret === undefined || config.secret.length < 32) {
        throw new ConfigurationError(`${alg} for ${config.issuer} needs a \`secret\` of at least 32 bytes`);
      }
    } else if (!DEFAULT_ALGORITHMS.includes(alg)) {
      throw new ConfigurationError(`algorithm ${JSON.stringify(alg)} of ${config.issuer} is not supported`);
    }
  }
  return [...algorithms];
}

function checkAudience(config: IssuerConfig, logger: Logger): void {
  const { audience } = config;
  if (audience === false) {
    logger.warn(
      { issuer: config.issuer },
      'audience: false — tokens this issuer made for any application are accepted',
    );
    return;
  }
  const list = typeof audience === 'string' ? [audience] : audience;
  if (!Array.isArray(list) || list.length === 0 || list.some((a) => typeof a !== 'string' || a === '')) {
    throw new ConfigurationError(
      `issuer ${config.issuer} needs an \`audience\` (the aud your API's tokens carry), or \`audience: false\` to accept tokens for any audience`,
    );
  }
}

function checkClaimName(name: ClaimName | undefined, what: string): void {
  if (name === undefined) return;
  const path = typeof name === 'string' ? [name] : name;
  if (
    !Array.isArray(path) ||
    path.length === 0 ||
    path.some((k) => typeof k !== 'string' || k.length === 0)
  ) {
    throw new ConfigurationError(`${what} must be a claim name or a non-empty path of claim names`);
  }
}
