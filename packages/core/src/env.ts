import { ConfigurationError } from './errors';
import { validateRole } from './identity';
import { isLoopback } from './jwks';
import type { ProvisionerOptions } from './provisioner-types';
import type { IssuerConfig } from './types';
import { DEFAULT_ALGORITHMS } from './verifier';

/** What {@link configFromEnv} reads: every option of `createProvisioner` except `store`. */
export type EnvConfig = Partial<Omit<ProvisionerOptions, 'store'>>;

type Env = Record<string, string | undefined>;

/** Per-issuer profile claim names: variable → field of `IssuerConfig.claims`. */
const CLAIM_VARIABLES = {
  JIT_EMAIL_CLAIMS: 'email',
  JIT_EMAIL_VERIFIED_CLAIMS: 'emailVerified',
  JIT_NAME_CLAIMS: 'name',
} as const;

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

function issuerUrl(raw: string, variable: string, allowQuery = false): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(`${variable}: "${raw}" is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw new ConfigurationError(`${variable}: "${raw}" must be https (http only for localhost)`);
  }
  if ((url.search !== '' && !allowQuery) || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigurationError(`${variable}: URLs carry no query, fragment or credentials`);
  }
  return raw;
}

/** `issuer=value,...` → Map, every issuer one of the trusted ones. Splits on the first `=` only. */
function perIssuer(env: Env, variable: string, issuers: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const raw = env[variable]?.trim();
  if (!raw) return out;
  for (const pair of list(raw)) {
    const at = pair.indexOf('=');
    const issuer = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    if (at <= 0 || value.length === 0)
      throw new ConfigurationError(`${variable}: expected issuer=value pairs`);
    if (!issuers.includes(issuer)) {
      throw new ConfigurationError(`${variable}: ${issuer} is not listed in JIT_TRUSTED_ISSUERS`);
    }
    out.set(issuer, value);
  }
  return out;
}

function boolean(env: Env, variable: string): boolean | undefined {
  const raw = env[variable]?.trim();
  if (!raw) return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigurationError(`${variable} must be true, false, 1 or 0`);
}

/**
 * Read provisioner options from environment variables (twelve-factor apps, containers). Unset or empty
 * variables leave the option to its default; a bad value is a {@link ConfigurationError} naming the
 * variable (values are not echoed unless they are URLs).
 *
 * | variable | meaning |
 * | --- | --- |
 * | `JIT_TRUSTED_ISSUERS` | comma-separated issuer URLs (https; http only for localhost) |
 * | `JIT_AUDIENCE` | expected `aud` for every issuer (comma-separated for several); required with `JIT_TRUSTED_ISSUERS`; `false` accepts any audience (logged as a warning at start-up) |
 * | `JIT_ISSUER_PREFIXES` | `issuer=prefix,...` username prefixes |
 * | `JIT_JWKS_URIS` | `issuer=jwksUri,...` instead of OIDC discovery |
 * | `JIT_ALGORITHMS` | allowed asymmetric algorithms, e.g. `RS256,ES256` |
 * | `JIT_AUTO_CREATE` | `true`/`false`/`1`/`0` |
 * | `JIT_DEFAULT_ROLE` | role of auto-created users |
 * | `JIT_ON_PROVISIONING_ERROR` | `reject` or `continue` |
 * | `JIT_CACHE` | `off` disables the in-process caches |
 * | `JIT_CLOCK_TOLERANCE_SEC` | integer 0–300 |
 * | `JIT_EMAIL_CLAIMS`, `JIT_EMAIL_VERIFIED_CLAIMS`, `JIT_NAME_CLAIMS`, `JIT_TENANT_CLAIMS` | `issuer=claim,...`: where an issuer puts the profile (e.g. Auth0's `https://example.com/email`); top-level claim names, taken literally |
 * | `JIT_JWKS_COOLDOWN_MS` | least time between JWKS fetches for an unknown `kid` (jose's default 30000) |
 *
 * @example
 * ```ts
 * const provisioner = createProvisioner({ ...configFromEnv(), store: createMemoryStore() });
 * ```
 */
export function configFromEnv(env: Env = process.env): EnvConfig {
  const config: EnvConfig = {};
  const issuers = list(env['JIT_TRUSTED_ISSUERS'] ?? '').map((raw) => issuerUrl(raw, 'JIT_TRUSTED_ISSUERS'));
  const perIssuerVariables = [
    'JIT_AUDIENCE',
    'JIT_ISSUER_PREFIXES',
    'JIT_JWKS_URIS',
    'JIT_ALGORITHMS',
    ...Object.keys(CLAIM_VARIABLES),
    'JIT_TENANT_CLAIMS',
  ];
  if (issuers.length === 0) {
    const orphan = perIssuerVariables.find((name) => env[name]?.trim());
    if (orphan) throw new ConfigurationError(`${orphan} is set but JIT_TRUSTED_ISSUERS is empty`);
  } else {
    if (new Set(issuers).size !== issuers.length) {
      throw new ConfigurationError('JIT_TRUSTED_ISSUERS lists an issuer twice');
    }
    const audiences = list(env['JIT_AUDIENCE'] ?? '');
    const prefixes = perIssuer(env, 'JIT_ISSUER_PREFIXES', issuers);
    const jwksUris = perIssuer(env, 'JIT_JWKS_URIS', issuers);
    for (const uri of jwksUris.values()) issuerUrl(uri, 'JIT_JWKS_URIS', true);
    const claimNames = Object.entries(CLAIM_VARIABLES).map(
      ([variable, field]) => [field, perIssuer(env, variable, issuers)] as const,
    );
    const tenantClaims = perIssuer(env, 'JIT_TENANT_CLAIMS', issuers);
    const algorithms = list(env['JIT_ALGORITHMS'] ?? '');
    for (const alg of algorithms) {
      // HS* needs a secret, which has no place in a shared list of variables.
      if (!DEFAULT_ALGORITHMS.includes(alg)) {
        throw new ConfigurationError(`JIT_ALGORITHMS: allowed values are ${DEFAULT_ALGORITHMS.join(', ')}`);
      }
    }
    // Required, like `audience` itself: without it, tokens issued to any other app would be accepted.
    if (audiences.length === 0) {
      throw new ConfigurationError(
        'JIT_AUDIENCE is required with JIT_TRUSTED_ISSUERS (the aud your API accepts), or JIT_AUDIENCE=false to accept any',
      );
    }
    const anyAudience = audiences.length === 1 && audiences[0] === 'false';
    config.issuers = issuers.map((issuer) => {
      const entry: IssuerConfig = { issuer };
      entry.audience = anyAudience ? false : audiences.length === 1 ? (audiences[0] as string) : audiences;
      const prefix = prefixes.get(issuer);
      if (prefix !== undefined) entry.prefix = prefix;
      const jwksUri = jwksUris.get(issuer);
      if (jwksUri !== undefined) entry.jwksUri = jwksUri;
      if (algorithms.length > 0) entry.algorithms = algorithms;
      const claims: NonNullable<IssuerConfig['claims']> = {};
      for (const [field, names] of claimNames) {
        const name = names.get(issuer);
        if (name !== undefined) claims[field] = name;
      }
      if (Object.keys(claims).length > 0) entry.claims = claims;
      const tenantClaim = tenantClaims.get(issuer);
      if (tenantClaim !== undefined) entry.tenantClaim = tenantClaim;
      return entry;
    });
  }

  const autoCreate = boolean(env, 'JIT_AUTO_CREATE');
  if (autoCreate !== undefined) config.autoCreate = autoCreate;

  const role = env['JIT_DEFAULT_ROLE']?.trim();
  if (role) {
    try {
      config.defaultRole = validateRole(role, 'JIT_DEFAULT_ROLE');
    } catch (err) {
      throw new ConfigurationError((err as Error).message);
    }
  }

  const onError = env['JIT_ON_PROVISIONING_ERROR']?.trim();
  if (onError) {
    if (onError !== 'reject' && onError !== 'continue') {
      throw new ConfigurationError('JIT_ON_PROVISIONING_ERROR must be reject or continue');
    }
    config.onProvisioningError = onError;
  }

  const cache = env['JIT_CACHE']?.trim();
  if (cache) {
    if (cache === 'off' || cache === 'false' || cache === '0') {
      config.userCache = false;
      config.tokenCache = false;
    } else if (cache !== 'on' && cache !== 'true' && cache !== '1') {
      throw new ConfigurationError('JIT_CACHE must be off or on');
    }
  }

  const tolerance = env['JIT_CLOCK_TOLERANCE_SEC']?.trim();
  if (tolerance) {
    const seconds = Number(tolerance);
    if (!/^\d+$/.test(tolerance) || seconds > 300) {
      throw new ConfigurationError('JIT_CLOCK_TOLERANCE_SEC must be an integer from 0 to 300');
    }
    config.clockToleranceSec = seconds;
  }

  const cooldown = env['JIT_JWKS_COOLDOWN_MS']?.trim();
  if (cooldown) {
    if (!/^\d+$/.test(cooldown)) {
      throw new ConfigurationError('JIT_JWKS_COOLDOWN_MS must be a whole number of milliseconds');
    }
    config.jwks = { cooldownMs: Number(cooldown) };
  }
  return config;
}
