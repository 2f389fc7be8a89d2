import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../errors';
import { configFromEnv } from './env';

const A = 'https://sso.example.com/realms/main';
const B = 'https://accounts.google.com';

describe('configFromEnv', () => {
  it('reads JIT_ROLE_CLAIMS: a JSON mapping per trusted issuer, path claims included', () => {
    const roles = {
      claim: ['resource_access', 'billing.api', 'roles'],
      map: { 'app-admin': 'admin' },
      allow: ['admin', 'user'],
      default: 'user',
    };
    const config = configFromEnv({
      JIT_TRUSTED_ISSUERS: `${A},${B}`,
      JIT_AUDIENCE: 'api',
      JIT_ROLE_CLAIMS: JSON.stringify({ [A]: roles }),
    });
    expect(config.issuers).toEqual([
      { issuer: A, audience: 'api', roles },
      { issuer: B, audience: 'api' },
    ]);
  });

  it('returns nothing for an empty environment', () => {
    expect(configFromEnv({})).toEqual({});
  });

  it('reads every variable', () => {
    expect(
      configFromEnv({
        JIT_TRUSTED_ISSUERS: ` ${A} , ${B} `,
        JIT_AUDIENCE: 'api',
        JIT_ISSUER_PREFIXES: `${A}=corp`,
        JIT_JWKS_URIS: `${B}=https://www.googleapis.com/oauth2/v3/certs?x=1`,
        JIT_ALGORITHMS: 'RS256,ES256',
        JIT_AUTO_CREATE: '0',
        JIT_DEFAULT_ROLE: 'member',
        JIT_ON_PROVISIONING_ERROR: 'continue',
        JIT_CACHE: 'off',
        JIT_CLOCK_TOLERANCE_SEC: '10',
      }),
    ).toEqual({
      issuers: [
        { issuer: A, audience: 'api', prefix: 'corp', algorithms: ['RS256', 'ES256'] },
        {
          issuer: B,
          audience: 'api',
          jwksUri: 'https://www.googleapis.com/oauth2/v3/certs?x=1',
          algorithms: ['RS256', 'ES256'],
        },
      ],
      autoCreate: false,
      defaultRole: 'member',
      onProvisioningError: 'continue',
      userCache: false,
      tokenCache: false,
      clockToleranceSec: 10,
    });
  });

  it('reads per-issuer claim names and the JWKS cooldown', () => {
    const ns = 'https://example.com/';
    expect(
      configFromEnv({
        JIT_TRUSTED_ISSUERS: `${A},${B}`,
        JIT_EMAIL_CLAIMS: `${A}=${ns}email`,
        JIT_EMAIL_VERIFIED_CLAIMS: `${A}=${ns}email_verified`,
        JIT_NAME_CLAIMS: `${A}=${ns}name`,
        JIT_TENANT_CLAIMS: `${B}=hd`,
        JIT_JWKS_COOLDOWN_MS: '5000',
        JIT_AUDIENCE: 'api',
      }),
    ).toEqual({
      issuers: [
        {
          issuer: A,
          audience: 'api',
          claims: { email: `${ns}email`, emailVerified: `${ns}email_verified`, name: `${ns}name` },
        },
        { issuer: B, audience: 'api', tenantClaim: 'hd' },
      ],
      jwks: { cooldownMs: 5000 },
    });
  });

  it('accepts several audiences and plain http on loopback', () => {
    const config = configFromEnv({
      JIT_TRUSTED_ISSUERS: 'http://localhost:8080/realms/dev',
      JIT_AUDIENCE: 'a,b',
    });
    expect(config.issuers).toEqual([{ issuer: 'http://localhost:8080/realms/dev', audience: ['a', 'b'] }]);
    expect(
      configFromEnv({ JIT_TRUSTED_ISSUERS: 'http://127.0.0.1:9000', JIT_AUDIENCE: 'api' }).issuers,
    ).toHaveLength(1);
  });

  it('requires JIT_AUDIENCE with issuers; JIT_AUDIENCE=false is the explicit opt-out (issue 11 #10)', () => {
    expect(() => configFromEnv({ JIT_TRUSTED_ISSUERS: A })).toThrow(/JIT_AUDIENCE/);
    expect(() => configFromEnv({ JIT_TRUSTED_ISSUERS: A, JIT_AUDIENCE: ' , ' })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(configFromEnv({ JIT_TRUSTED_ISSUERS: A, JIT_AUDIENCE: 'false' }).issuers).toEqual([
      { issuer: A, audience: false },
    ]);
  });

  it('reads per-issuer audiences, a plain value applying to the issuers not named', () => {
    const C = 'https://login.example.org';
    expect(
      configFromEnv({
        JIT_TRUSTED_ISSUERS: `${A},${B},${C}`,
        JIT_AUDIENCE: `${A}=account, ${B}=client-1.apps.googleusercontent.com,${B}=client-2, api`,
      }).issuers,
    ).toEqual([
      { issuer: A, audience: 'account' },
      { issuer: B, audience: ['client-1.apps.googleusercontent.com', 'client-2'] },
      { issuer: C, audience: 'api' },
    ]);
    // Only pairs: an issuer named by none has no audience, which is refused (`false` opts out explicitly).
    expect(() => configFromEnv({ JIT_TRUSTED_ISSUERS: `${A},${B}`, JIT_AUDIENCE: `${B}=g` })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(
      configFromEnv({ JIT_TRUSTED_ISSUERS: `${A},${B}`, JIT_AUDIENCE: `${A}=false,${B}=g` }).issuers,
    ).toEqual([
      { issuer: A, audience: false },
      { issuer: B, audience: 'g' },
    ]);
    // An audience that is itself a URL stays a plain value.
    expect(
      configFromEnv({ JIT_TRUSTED_ISSUERS: A, JIT_AUDIENCE: 'https://api.example.com/' }).issuers,
    ).toEqual([{ issuer: A, audience: 'https://api.example.com/' }]);
  });

  it.each([
    ['JIT_TRUSTED_ISSUERS', { JIT_TRUSTED_ISSUERS: `${A},${B},${A}` }],
    ['JIT_ISSUER_PREFIXES', { JIT_TRUSTED_ISSUERS: `${A},${B}`, JIT_ISSUER_PREFIXES: `${A}=x,${A}=y` }],
    ['JIT_EMAIL_CLAIMS', { JIT_TRUSTED_ISSUERS: A, JIT_EMAIL_CLAIMS: `${A}=mail,${A}=email` }],
  ])('names the issuer %s lists twice', (variable, env) => {
    expect(() => configFromEnv(env)).toThrow(ConfigurationError);
    expect(() => configFromEnv(env)).toThrow(`${variable} lists issuer ${A} twice`);
  });

  it.each([
    ['JIT_TRUSTED_ISSUERS', { JIT_TRUSTED_ISSUERS: 'http://sso.example.com' }],
    ['JIT_TRUSTED_ISSUERS', { JIT_TRUSTED_ISSUERS: 'not a url' }],
    ['JIT_TRUSTED_ISSUERS', { JIT_TRUSTED_ISSUERS: `${A},${A}` }],
    ['JIT_TRUSTED_ISSUERS', { JIT_TRUSTED_ISSUERS: 'https://user:pw@sso.example.com' }],
    ['JIT_AUDIENCE', { JIT_AUDIENCE: 'api' }],
    ['JIT_AUDIENCE', { JIT_TRUSTED_ISSUERS: A, JIT_AUDIENCE: `${B}=api` }],
    ['JIT_AUDIENCE', { JIT_TRUSTED_ISSUERS: A, JIT_AUDIENCE: `${A}=` }],
    ['JIT_ISSUER_PREFIXES', { JIT_TRUSTED_ISSUERS: A, JIT_ISSUER_PREFIXES: `${B}=ggl` }],
    ['JIT_ISSUER_PREFIXES', { JIT_TRUSTED_ISSUERS: A, JIT_ISSUER_PREFIXES: 'corp' }],
    ['JIT_JWKS_URIS', { JIT_TRUSTED_ISSUERS: A, JIT_JWKS_URIS: `${A}=http://evil.example/jwks` }],
    ['JIT_ALGORITHMS', { JIT_TRUSTED_ISSUERS: A, JIT_ALGORITHMS: 'HS256' }],
    ['JIT_ALGORITHMS', { JIT_TRUSTED_ISSUERS: A, JIT_ALGORITHMS: 'none' }],
    ['JIT_AUTO_CREATE', { JIT_AUTO_CREATE: 'yes' }],
    ['JIT_DEFAULT_ROLE', { JIT_DEFAULT_ROLE: 'admin; drop table' }],
    ['JIT_ON_PROVISIONING_ERROR', { JIT_ON_PROVISIONING_ERROR: 'ignore' }],
    ['JIT_CACHE', { JIT_CACHE: 'maybe' }],
    ['JIT_CLOCK_TOLERANCE_SEC', { JIT_CLOCK_TOLERANCE_SEC: '-1' }],
    ['JIT_CLOCK_TOLERANCE_SEC', { JIT_CLOCK_TOLERANCE_SEC: '1.5' }],
    ['JIT_CLOCK_TOLERANCE_SEC', { JIT_CLOCK_TOLERANCE_SEC: '3600' }],
    ['JIT_EMAIL_CLAIMS', { JIT_TRUSTED_ISSUERS: A, JIT_EMAIL_CLAIMS: `${B}=mail` }],
    ['JIT_NAME_CLAIMS', { JIT_NAME_CLAIMS: `${A}=name` }],
    ['JIT_TENANT_CLAIMS', { JIT_TRUSTED_ISSUERS: A, JIT_TENANT_CLAIMS: `${A}=` }],
    ['JIT_ROLE_CLAIMS', { JIT_TRUSTED_ISSUERS: A, JIT_AUDIENCE: 'api', JIT_ROLE_CLAIMS: 'groups=admin' }],
    [
      'JIT_ROLE_CLAIMS',
      {
        JIT_TRUSTED_ISSUERS: A,
        JIT_AUDIENCE: 'api',
        JIT_ROLE_CLAIMS: JSON.stringify({ [A]: { claim: 'groups', map: { g: 'root' }, allow: ['user'] } }),
      },
    ],
    [
      'JIT_ROLE_CLAIMS',
      {
        JIT_TRUSTED_ISSUERS: A,
        JIT_AUDIENCE: 'api',
        JIT_ROLE_CLAIMS: JSON.stringify({ [B]: { claim: 'groups', map: {}, allow: ['user'] } }),
      },
    ],
    ['JIT_ROLE_CLAIMS', { JIT_ROLE_CLAIMS: '{}' }],
    ['JIT_JWKS_COOLDOWN_MS', { JIT_JWKS_COOLDOWN_MS: '-5' }],
    ['JIT_JWKS_COOLDOWN_MS', { JIT_JWKS_COOLDOWN_MS: '30s' }],
  ])('refuses a bad %s, naming it', (variable, env) => {
    let error: unknown;
    try {
      configFromEnv(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('configuration_error');
    expect((error as Error).message).toContain(variable);
  });

  it('does not echo the value of a bad role', () => {
    expect(() => configFromEnv({ JIT_DEFAULT_ROLE: 'sekrit value!' })).toThrow(/^(?!.*sekrit)/);
  });
});
