import { ConfigurationError } from '../errors';
import type { IntrospectionConfig, IssuerConfig } from '../types';
import { checkKeyUrl } from './jwks';

// The start-up checks and the defaults of an issuer's `introspection` and `userinfo` options.

/** Default `cacheTtlMs`: an active answer is reused for 60 s (never past the token's `exp`). */
export const DEFAULT_INTROSPECTION_CACHE_TTL_MS = 60_000;
/**
 * The cap on `cacheTtlMs` and on any active answer's reuse: 5 minutes, the token cache's default period. Past
 * it, a token revoked at the provider would be accepted for longer than most operators would guess.
 */
export const MAX_INTROSPECTION_CACHE_TTL_MS = 300_000;
/** The cap on `negativeCacheMs`: an `active: false` answer is remembered at most 60 s. */
export const MAX_NEGATIVE_CACHE_MS = 60_000;
/** Most `active: false` answers remembered per issuer (when `negativeCacheMs` is on). */
export const MAX_NEGATIVE_ENTRIES = 10_000;

/** An issuer's `introspection` as checked: every default filled in. */
export interface CheckedIntrospection {
  endpoint: string | undefined;
  clientId: string;
  clientSecret: string | undefined;
  privateKeyJwt: IntrospectionConfig['privateKeyJwt'];
  cacheTtlMs: number;
  negativeCacheMs: number;
}

function bounded(value: unknown, fallback: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new ConfigurationError(`${what} must be a number of ms between 0 and ${max}`);
  }
  return value;
}

function checkPrivateKey(jwk: unknown, what: string): void {
  const key = jwk as { kty?: unknown; d?: unknown } | null;
  if (typeof key !== 'object' || key === null || typeof key.kty !== 'string' || typeof key.d !== 'string') {
    throw new ConfigurationError(`${what} must be a private JWK (with \`kty\` and \`d\`)`);
  }
  if (key.kty === 'oct') throw new ConfigurationError(`${what} must be an asymmetric key, not \`oct\``);
}

/**
 * Check an issuer's `introspection` (a {@link ConfigurationError} at start-up) and fill in its defaults;
 * undefined when the issuer has none.
 *
 * @example
 * ```ts
 * checkIntrospection({ issuer, audience: 'api', introspection: { clientId: 'api', clientSecret } });
 * // → { endpoint: undefined (discovered), clientId: 'api', cacheTtlMs: 60000, negativeCacheMs: 0, … }
 * ```
 */
export function checkIntrospection(config: IssuerConfig): CheckedIntrospection | undefined {
  checkUserinfo(config);
  const options = config.introspection;
  if (options === undefined) return undefined;
  const what = `introspection of ${config.issuer}`;
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError(`${what} must be an object`);
  const { endpoint, clientId, clientSecret, privateKeyJwt } = options;
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 255) {
    throw new ConfigurationError(`${what} needs a \`clientId\` (1-255 characters)`);
  }
  if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret.length === 0)) {
    throw new ConfigurationError(`${what}: \`clientSecret\` must be a non-empty string`);
  }
  if (privateKeyJwt !== undefined) checkPrivateKey(privateKeyJwt, `${what}: \`privateKeyJwt\``);
  if ((clientSecret === undefined) === (privateKeyJwt === undefined)) {
    throw new ConfigurationError(`${what} needs exactly one of \`clientSecret\` and \`privateKeyJwt\``);
  }
  if (endpoint !== undefined) {
    try {
      checkKeyUrl(endpoint, 'endpoint');
    } catch {
      throw new ConfigurationError(`${what}: \`endpoint\` must be an https URL (http only on loopback)`);
    }
  } else {
    try {
      new URL(config.issuer);
    } catch {
      throw new ConfigurationError(`${what}: the issuer is not a URL to discover from; set \`endpoint\``);
    }
  }
  return {
    endpoint,
    clientId,
    clientSecret,
    privateKeyJwt,
    cacheTtlMs: bounded(
      options.cacheTtlMs,
      DEFAULT_INTROSPECTION_CACHE_TTL_MS,
      MAX_INTROSPECTION_CACHE_TTL_MS,
      `${what}: \`cacheTtlMs\``,
    ),
    negativeCacheMs: bounded(
      options.negativeCacheMs,
      0,
      MAX_NEGATIVE_CACHE_MS,
      `${what}: \`negativeCacheMs\``,
    ),
  };
}

function checkUserinfo(config: IssuerConfig): void {
  const { userinfo } = config;
  if (userinfo !== undefined && userinfo !== false && userinfo !== 'first-login' && userinfo !== 'always') {
    throw new ConfigurationError(`userinfo of ${config.issuer} must be 'first-login', 'always' or false`);
  }
}
