import { ConfigurationError } from './errors';
import type { IssuerConfig } from './types';

// Defaults for well-known providers, so usernames read the same in every app that uses them.
const WELL_KNOWN: ReadonlyArray<[test: (url: URL) => boolean, prefix: string]> = [
  [(u) => u.pathname.includes('/realms/'), 'kcl'],
  [(u) => u.hostname === 'securetoken.google.com', 'fbs'],
  [(u) => u.hostname === 'accounts.google.com', 'ggl'],
  [(u) => u.hostname.endsWith('.auth0.com'), 'a0'],
  [(u) => /\.okta(preview)?\.com$/.test(u.hostname), 'okta'],
  [(u) => u.hostname.endsWith('.oryapis.com'), 'ory'],
  [(u) => u.hostname === 'login.microsoftonline.com', 'msft'],
  [(u) => u.hostname.startsWith('cognito-idp.'), 'cog'],
];

const PREFIX = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * The username prefix for an issuer: the configured one, a well-known default (Keycloak `kcl`,
 * Firebase `fbs`, Google `ggl`, Auth0 `a0`, Okta `okta`, Ory `ory`), else one derived from the host.
 *
 * @example
 * ```ts
 * defaultPrefix('https://sso.example.com/realms/main'); // 'kcl'
 * ```
 */
export function defaultPrefix(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return (
      issuer
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 32) || 'oidc'
    );
  }
  for (const [test, prefix] of WELL_KNOWN) if (test(url)) return prefix;
  return (
    url.hostname
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32) || 'oidc'
  );
}

/**
 * Resolve every issuer's prefix and refuse ambiguous set-ups at start-up: two issuers that would share a
 * prefix could mint the same username for different people.
 *
 * @example
 * ```ts
 * const prefixes = resolvePrefixes([{ issuer: 'https://accounts.google.com' }]);
 * prefixes.get('https://accounts.google.com'); // 'ggl'
 * ```
 */
export function resolvePrefixes(issuers: readonly IssuerConfig[]): Map<string, string> {
  const byIssuer = new Map<string, string>();
  const owner = new Map<string, string>();
  for (const config of issuers) {
    if (typeof config.issuer !== 'string' || config.issuer.length === 0) {
      throw new ConfigurationError('every issuer needs a non-empty `issuer`');
    }
    if (byIssuer.has(config.issuer)) throw new ConfigurationError(`issuer ${config.issuer} is listed twice`);
    const prefix = config.prefix ?? defaultPrefix(config.issuer);
    if (!PREFIX.test(prefix)) {
      throw new ConfigurationError(`prefix "${prefix}" of ${config.issuer} must match ${PREFIX.source}`);
    }
    const other = owner.get(prefix);
    if (other !== undefined) {
      throw new ConfigurationError(
        `issuers ${other} and ${config.issuer} share the username prefix "${prefix}"; set a distinct \`prefix\` on each`,
      );
    }
    owner.set(prefix, config.issuer);
    byIssuer.set(config.issuer, prefix);
  }
  return byIssuer;
}

/**
 * `oidc:${prefix}:${subject}`
 *
 * @example
 * ```ts
 * usernameFor('kcl', 'f81d4fae'); // 'oidc:kcl:f81d4fae'
 * ```
 */
export function usernameFor(prefix: string, subject: string): string {
  return `oidc:${prefix}:${subject}`;
}
