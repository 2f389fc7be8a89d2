import { createHash } from 'node:crypto';
import { ConfigurationError } from '../errors';
import type { IssuerConfig } from '../types';

/** The path segment after `marker` (e.g. the realm after `/realms/`), or ''. */
const segmentAfter = (url: URL, marker: string) => url.pathname.split(marker)[1]?.split('/')[0] ?? '';
const firstSegment = (url: URL) => url.pathname.split('/')[1] ?? '';
const firstLabel = (url: URL) => url.hostname.split('.')[0] ?? '';

interface WellKnown {
  matches: (url: URL) => boolean;
  prefix: string;
  /** What tells two issuers of this provider apart (realm, project, tenant), used when both are trusted. */
  instance: (url: URL) => string;
}

// Defaults for well-known providers, so usernames read the same in every app that uses them.
const WELL_KNOWN: readonly WellKnown[] = [
  {
    matches: (u) => u.pathname.includes('/realms/'),
    prefix: 'kcl',
    instance: (u) => segmentAfter(u, '/realms/'),
  },
  { matches: (u) => u.hostname === 'securetoken.google.com', prefix: 'fbs', instance: firstSegment },
  { matches: (u) => u.hostname === 'accounts.google.com', prefix: 'ggl', instance: () => '' },
  { matches: (u) => u.hostname.endsWith('.auth0.com'), prefix: 'a0', instance: firstLabel },
  { matches: (u) => /\.okta(preview)?\.com$/.test(u.hostname), prefix: 'okta', instance: firstLabel },
  { matches: (u) => u.hostname.endsWith('.oryapis.com'), prefix: 'ory', instance: firstLabel },
  { matches: (u) => u.hostname === 'login.microsoftonline.com', prefix: 'msft', instance: firstSegment },
  { matches: (u) => u.hostname.startsWith('cognito-idp.'), prefix: 'cog', instance: firstSegment },
];

const PREFIX = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MAX_PREFIX = 32;

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/**
 * `slug` cut to fit a prefix. A cut one ends in a hash of the whole issuer, so two long issuer URLs that
 * share their first 23 characters still get different prefixes.
 */
function fitPrefix(text: string, issuer: string): string {
  if (text.length === 0) return `oidc-${shortHash(issuer)}`;
  if (text.length <= MAX_PREFIX) return text;
  return `${text.slice(0, MAX_PREFIX - 9).replace(/-+$/, '')}-${shortHash(issuer)}`;
}

function parse(issuer: string): URL | undefined {
  try {
    return new URL(issuer);
  } catch {
    return undefined;
  }
}

/**
 * The username prefix for an issuer that sets none: a well-known default (Keycloak `kcl`, Firebase `fbs`,
 * Google `ggl`, Auth0 `a0`, Okta `okta`, Ory `ory`, Microsoft `msft`, Cognito `cog`), else one derived
 * from the issuer's host, port and path, so two issuers on one host (two dev issuers on different ports,
 * two tenants under different paths) never share one. At most 32 characters: a longer one is cut and ends
 * in a short hash of the issuer URL.
 *
 * @example
 * ```ts
 * defaultPrefix('https://sso.example.com/realms/main'); // 'kcl'
 * defaultPrefix('http://127.0.0.1:4001'); // '127-0-0-1-4001'
 * defaultPrefix('https://login.example.com/tenants/acme'); // 'login-example-com-tenants-acme'
 * ```
 */
export function defaultPrefix(issuer: string): string {
  const url = parse(issuer);
  if (url === undefined) return fitPrefix(slug(issuer), issuer);
  for (const known of WELL_KNOWN) if (known.matches(url)) return known.prefix;
  return fitPrefix(slug(`${url.hostname} ${url.port} ${url.pathname}`), issuer);
}

/** The realm, project or tenant of a well-known provider's issuer, as a prefix part; '' when there is none. */
function instanceOf(issuer: string): string {
  const url = parse(issuer);
  const known = url === undefined ? undefined : WELL_KNOWN.find((k) => k.matches(url));
  return url === undefined || known === undefined ? '' : slug(known.instance(url));
}

/**
 * Default prefixes of the issuers that set none. Issuers sharing a default (two Keycloak realms, two Firebase
 * projects) each get it plus their realm or project (`kcl-staff`, `fbs-my-app`), or plus a hash of their URL
 * where that still does not tell them apart (one realm name on two hosts) or meets an explicit prefix.
 */
function defaultPrefixes(issuers: readonly IssuerConfig[]): Map<string, string> {
  const implicit = issuers.filter((c) => c.prefix === undefined).map((c) => c.issuer);
  const explicit = new Set(issuers.flatMap((c) => (c.prefix === undefined ? [] : [c.prefix])));
  const count = <T>(values: T[]) => {
    const seen = new Map<T, number>();
    for (const value of values) seen.set(value, (seen.get(value) ?? 0) + 1);
    return seen;
  };
  const bases = implicit.map(defaultPrefix);
  const baseCount = count(bases);
  const named = implicit.map((issuer, i) => {
    const base = bases[i] as string;
    if ((baseCount.get(base) ?? 0) < 2) return base;
    const instance = instanceOf(issuer);
    return instance === '' ? '' : fitPrefix(`${base}-${instance}`, issuer);
  });
  const namedCount = count(named);
  const out = new Map<string, string>();
  implicit.forEach((issuer, i) => {
    const base = bases[i] as string;
    const name = named[i] as string;
    const unique = name !== '' && (name === base || ((namedCount.get(name) ?? 0) < 2 && !explicit.has(name)));
    out.set(issuer, unique ? name : `${base.slice(0, MAX_PREFIX - 9)}-${shortHash(issuer)}`);
  });
  return out;
}

/**
 * Resolve every issuer's prefix and refuse ambiguous set-ups at start-up: two issuers that would share a
 * prefix could mint the same username for different people. Issuers left to a default never share one:
 * two of one well-known provider (two Keycloak realms, two Firebase projects) each get the provider's
 * prefix plus their realm or project, e.g. `kcl-staff` and `kcl-main`. Two explicit equal prefixes, or an
 * explicit one equal to another issuer's default, are a `ConfigurationError`.
 *
 * @example
 * ```ts
 * const prefixes = resolvePrefixes([{ issuer: 'https://accounts.google.com' }]);
 * prefixes.get('https://accounts.google.com'); // 'ggl'
 * ```
 */
export function resolvePrefixes(issuers: readonly IssuerConfig[]): Map<string, string> {
  const listed = new Set<string>();
  for (const config of issuers) {
    if (typeof config.issuer !== 'string' || config.issuer.length === 0) {
      throw new ConfigurationError('every issuer needs a non-empty `issuer`');
    }
    if (listed.has(config.issuer)) throw new ConfigurationError(`issuer ${config.issuer} is listed twice`);
    listed.add(config.issuer);
  }
  const defaults = defaultPrefixes(issuers);
  const byIssuer = new Map<string, string>();
  const owner = new Map<string, string>();
  for (const config of issuers) {
    const prefix = config.prefix ?? (defaults.get(config.issuer) as string);
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
