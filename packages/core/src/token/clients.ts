import { ConfigurationError, InvalidTokenError } from '../errors';
import type { AuthClient, Claims, IssuerConfig } from '../types';
import { ownClaim, tokenScopes } from './scopes';

// Machine clients: which verified tokens are a service's client-credentials token rather than a person's.
// Every rule asks for two marks that agree with each other (never one claim alone), so a user token that merely
// carries a `client_id`, a `gty` or an `idtyp` is still a user's and goes through every user check.

const str = (claims: Claims, name: string): string | undefined => {
  const value = ownClaim(claims, name);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

/**
 * The client id of a token the providers' own marks call a client-credentials token, or undefined:
 * - RFC 9068 §2.2 (Ory Hydra, and most servers): `client_id` equal to `sub`;
 * - Auth0: `gty: 'client-credentials'` and `sub` is `<azp>@clients`;
 * - Okta: `cid` equal to `sub`, and no `uid` (a user's token carries the user's `uid`);
 * - Entra ID: `idtyp: 'app'` (optional claim), `azp` (v2) or `appid` (v1), and no `scp` (delegated scopes are a
 *   signed-in user's);
 * - Keycloak service accounts: `preferred_username` is `service-account-<azp>` and `client_id` (Keycloak 25+;
 *   `clientId` before) equals `azp`.
 */
export function autoClientId(claims: Claims): string | undefined {
  const sub = str(claims, 'sub');
  if (sub === undefined) return undefined;
  const clientId = str(claims, 'client_id');
  if (clientId === sub) return clientId;
  const azp = str(claims, 'azp');
  if (ownClaim(claims, 'gty') === 'client-credentials' && azp !== undefined && sub === `${azp}@clients`) {
    return azp;
  }
  if (str(claims, 'cid') === sub && ownClaim(claims, 'uid') === undefined) return sub;
  if (ownClaim(claims, 'idtyp') === 'app' && ownClaim(claims, 'scp') === undefined) {
    const app = azp ?? str(claims, 'appid');
    if (app !== undefined) return app;
  }
  if (
    azp !== undefined &&
    (clientId ?? str(claims, 'clientId')) === azp &&
    str(claims, 'preferred_username') === `service-account-${azp}`
  ) {
    return azp;
  }
  return undefined;
}

/** A client recognised by an app's own `detect`: its id is the first of the usual client claims, else `sub`. */
function namedClientId(claims: Claims): string {
  return (
    str(claims, 'client_id') ??
    str(claims, 'azp') ??
    str(claims, 'cid') ??
    str(claims, 'appid') ??
    (claims.sub as string)
  );
}

/**
 * The machine client a verified token speaks for, or undefined for a person's token (and for every token of an
 * issuer with `clients.provision: true`, which keeps clients as user rows). Computed once per verified token
 * and frozen: the token cache hands the same object to every request with that token. A `detect` function
 * that throws refuses the token (401 `invalid_token`) rather than guess.
 *
 * @example
 * ```ts
 * clientOf({ iss, sub: 'svc', client_id: 'svc', scope: 'orders:read' }, { issuer: iss });
 * // → { id: 'svc', issuer: iss, scopes: ['orders:read'] }
 * ```
 */
export function clientOf(claims: Claims, config: IssuerConfig): AuthClient | undefined {
  const options = config.clients;
  if (options?.provision === true) return undefined;
  const detect = options?.detect ?? 'auto';
  let id: string | undefined;
  if (detect === 'auto') {
    id = autoClientId(claims);
  } else {
    let verdict: unknown;
    try {
      verdict = detect(claims);
    } catch {
      throw new InvalidTokenError('invalid_claim', 'The token could not be classified', {
        issuer: config.issuer,
      });
    }
    id = verdict === true ? namedClientId(claims) : undefined;
  }
  if (id === undefined) return undefined;
  const scopes = Object.freeze([...(tokenScopes(claims) ?? [])]);
  return Object.freeze({ id, issuer: config.issuer, scopes });
}

/** Start-up check of an issuer's `clients` option. */
export function checkClients(config: IssuerConfig): void {
  const { clients } = config;
  if (clients === undefined) return;
  if (typeof clients !== 'object' || clients === null) {
    throw new ConfigurationError(`clients of ${config.issuer} must be an object`);
  }
  const { detect, provision } = clients;
  if (detect !== undefined && detect !== 'auto' && typeof detect !== 'function') {
    throw new ConfigurationError(`clients.detect of ${config.issuer} must be 'auto' or a function`);
  }
  if (provision !== undefined && typeof provision !== 'boolean') {
    throw new ConfigurationError(`clients.provision of ${config.issuer} must be a boolean`);
  }
}
