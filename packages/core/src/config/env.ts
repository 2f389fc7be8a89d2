import { ConfigurationError } from '../errors';
import { validateRole } from '../identity';
import type { ProvisionerOptions } from '../provisioning';
import { compileRoles, DEFAULT_ALGORITHMS, isLoopback } from '../token';
import type { IssuerConfig, RoleMapping } from '../types';

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

/** One `issuer=value` entry of `variable`, split on the first `=`; the issuer must be a trusted one. */
function issuerPair(entry: string, variable: string, issuers: string[]): [issuer: string, value: string] {
  const at = entry.indexOf('=');
  const issuer = entry.slice(0, at).trim();
  const value = entry.slice(at + 1).trim();
  if (at <= 0 || value.length === 0) throw new ConfigurationError(`${variable}: expected issuer=value pairs`);
  if (!issuers.includes(issuer)) {
    throw new ConfigurationError(`${variable}: ${issuer} is not listed in JIT_TRUSTED_ISSUERS`);
  }
  return [issuer, value];
}

/**
 * `JIT_ROLE_CLAIMS`: one JSON object, trusted issuer → {@link RoleMapping}. JSON because a claim path is a list
 * of names that may hold dots (a Keycloak client id), and `map` is a table: no flat syntax says both plainly.
 */
function roleMappings(env: Env, issuers: string[]): Map<string, RoleMapping> {
  const out = new Map<string, RoleMapping>();
  const raw = env['JIT_ROLE_CLAIMS']?.trim();
  if (raw === undefined || raw === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(
      'JIT_ROLE_CLAIMS must be JSON: {"<issuer>": {"claim": …, "map": {…}, "allow": […]}}',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigurationError('JIT_ROLE_CLAIMS must be a JSON object keyed by issuer');
  for (const [issuer, roles] of Object.entries(parsed)) {
    if (!issuers.includes(issuer))
      throw new ConfigurationError(`JIT_ROLE_CLAIMS: ${issuer} is not listed in JIT_TRUSTED_ISSUERS`);
    try {
      compileRoles(roles as RoleMapping, issuer);
    } catch (err) {
      throw new ConfigurationError(`JIT_ROLE_CLAIMS: ${(err as Error).message}`);
    }
    out.set(issuer, roles as RoleMapping);
  }
  return out;
}

/** `issuer=value,...` → Map, every issuer one of the trusted ones, each at most once. */
function perIssuer(env: Env, variable: string, issuers: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of list(env[variable] ?? '')) {
    const [issuer, value] = issuerPair(entry, variable, issuers);
    if (out.has(issuer)) throw new ConfigurationError(`${variable} lists issuer ${issuer} twice`);
    out.set(issuer, value);
  }
  return out;
}

/**
 * `JIT_AUDIENCE`: plain values apply to every issuer; `issuer=aud` entries set an issuer's own audiences
 * (repeat the issuer for several), replacing the plain ones for that issuer. An issuer named by neither
 * is a configuration error (an audience is required; `false` opts out).
 */
function audiences(env: Env, issuers: string[]): (issuer: string) => string[] {
  const shared: string[] = [];
  const own = new Map<string, string[]>();
  for (const entry of list(env['JIT_AUDIENCE'] ?? '')) {
    if (!entry.includes('=')) {
      shared.push(entry);
      continue;
    }
    const [issuer, audience] = issuerPair(entry, 'JIT_AUDIENCE', issuers);
    own.set(issuer, [...(own.get(issuer) ?? []), audience]);
  }
  return (issuer) => own.get(issuer) ?? shared;
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
 * | `JIT_AUDIENCE` | expected `aud`, required with `JIT_TRUSTED_ISSUERS`: plain values (comma-separated) for every issuer, and/or `issuer=aud,...` pairs for one issuer's own (repeat the issuer for several; its pairs replace the plain values for it); `false` (plain or as an issuer's value) accepts any audience, logged as a warning at start-up |
 * | `JIT_ISSUER_PREFIXES` | `issuer=prefix,...` username prefixes |
 * | `JIT_JWKS_URIS` | `issuer=jwksUri,...` instead of OIDC discovery |
 * | `JIT_ALGORITHMS` | allowed asymmetric algorithms, e.g. `RS256,ES256` |
 * | `JIT_AUTO_CREATE` | `true`/`false`/`1`/`0` |
 * | `JIT_DEFAULT_ROLE` | role of auto-created users |
 * | `JIT_ON_PROVISIONING_ERROR` | `reject` or `continue` |
 * | `JIT_CACHE` | `off` disables the in-process caches |
 * | `JIT_CLOCK_TOLERANCE_SEC` | integer 0–300 |
 * | `JIT_EMAIL_CLAIMS`, `JIT_EMAIL_VERIFIED_CLAIMS`, `JIT_NAME_CLAIMS`, `JIT_TENANT_CLAIMS` | `issuer=claim,...`: where an issuer puts the profile (e.g. Auth0's `https://example.com/email`); top-level claim names, taken literally |
 * | `JIT_ROLE_CLAIMS` | roles from the provider's claims, one JSON object: `{"<issuer>": {"claim": ["realm_access", "roles"], "map": {"app-admin": "admin"}, "allow": ["admin", "user"], "default": "user", "sync": "login"}}`; `claim` is a top-level name (taken literally) or a path array; checked at start-up like `IssuerConfig.roles` |
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
    'JIT_ROLE_CLAIMS',
  ];
  if (issuers.length === 0) {
    const orphan = perIssuerVariables.find((name) => env[name]?.trim());
    if (orphan) throw new ConfigurationError(`${orphan} is set but JIT_TRUSTED_ISSUERS is empty`);
  } else {
    const twice = issuers.find((issuer, i) => issuers.indexOf(issuer) !== i);
    if (twice !== undefined) throw new ConfigurationError(`JIT_TRUSTED_ISSUERS lists issuer ${twice} twice`);
    const audienceOf = audiences(env, issuers);
    const prefixes = perIssuer(env, 'JIT_ISSUER_PREFIXES', issuers);
    const jwksUris = perIssuer(env, 'JIT_JWKS_URIS', issuers);
    for (const uri of jwksUris.values()) issuerUrl(uri, 'JIT_JWKS_URIS', true);
    const claimNames = Object.entries(CLAIM_VARIABLES).map(
      ([variable, field]) => [field, perIssuer(env, variable, issuers)] as const,
    );
    const tenantClaims = perIssuer(env, 'JIT_TENANT_CLAIMS', issuers);
    const roles = roleMappings(env, issuers);
    const algorithms = list(env['JIT_ALGORITHMS'] ?? '');
    for (const alg of algorithms) {
      // HS* needs a secret, which has no place in a shared list of variables.
      if (!DEFAULT_ALGORITHMS.includes(alg)) {
        throw new ConfigurationError(`JIT_ALGORITHMS: allowed values are ${DEFAULT_ALGORITHMS.join(', ')}`);
      }
    }
    config.issuers = issuers.map((issuer) => {
      const entry: IssuerConfig = { issuer };
      // Required, like `audience` itself: without it, tokens issued to any other app would be accepted.
      const audience = audienceOf(issuer);
      if (audience.length === 0) {
        throw new ConfigurationError(
          `JIT_AUDIENCE names no audience for issuer ${issuer} (the aud your API accepts), or false to accept any`,
        );
      }
      entry.audience =
        audience.length === 1 && audience[0] === 'false'
          ? false
          : audience.length === 1
            ? (audience[0] as string)
            : audience;
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
      const mapping = roles.get(issuer);
      if (mapping !== undefined) entry.roles = mapping;
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
