import { InvalidTokenError, isJitProvisionError, StoreUnavailableError } from '../errors';
import { checkKeyUrl, discoverMetadata, identityFromClaims, type VerifiedToken } from '../token';
import type { Claims, Identity, IssuerConfig, UserRecord } from '../types';

// Userinfo at first login (issuer option `userinfo`): the profile an access token lacks, fetched from the
// provider with that token, never on the hot path of a cached user.

const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_USERINFO_BYTES = 65_536;

/** What {@link createUserinfo} needs: whether the user exists (cache, then store), and the HTTP timeout. */
export interface UserinfoOptions {
  timeoutMs?: number | undefined;
  cachedUser?: ((identity: Identity) => UserRecord | undefined) | undefined;
  findUser?: ((identity: Identity) => Promise<UserRecord | null>) | undefined;
}

const unavailable = (issuer: string, cause: unknown) =>
  new StoreUnavailableError(`The userinfo endpoint of ${issuer} is unavailable`, {
    cause,
    reason: 'provider_unavailable',
    retryAfterSeconds: 5,
  });

async function fetchUserinfo(endpoint: string, token: string, timeoutMs: number): Promise<Claims> {
  const response = await fetch(endpoint, {
    redirect: 'manual',
    headers: { accept: 'application/json', authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`userinfo answered ${response.status}`);
  if (text.length > MAX_USERINFO_BYTES) throw new Error('userinfo answer too large');
  const claims = JSON.parse(text) as unknown;
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new Error('userinfo answer is not a JSON object');
  }
  return claims as Claims;
}

/**
 * The identity a login provisions with: the token's, with `email`, `email_verified` and `name` filled from the
 * issuer's userinfo endpoint when its `userinfo` option asks and the token lacks `email` or `name`:
 * - `'first-login'`: only for a user not yet in the cache nor the store (one lookup);
 * - `'always'`: once per verified token (a cached token keeps its answer: at most once per cache period).
 * Only those three fields are taken, never roles or tenant. The answer's `sub` must equal the token's, else
 * 401 `invalid_token` (`invalid_claim`); an endpoint that fails is 503 `provisioning_unavailable`.
 *
 * @example
 * ```ts
 * const profileOf = createUserinfo({ cachedUser, findUser: (identity) => store.lookup(identity) });
 * const identity = await profileOf(verified, token);
 * ```
 */
export function createUserinfo(
  options: UserinfoOptions,
): (verified: VerifiedToken, token: string) => Promise<Identity> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const endpoints = new Map<string, Promise<string>>();
  const filled = new WeakMap<VerifiedToken, Identity>();

  const endpointOf = (config: IssuerConfig): Promise<string> => {
    let found = endpoints.get(config.issuer);
    if (found === undefined) {
      found = discoverMetadata(config.issuer, timeoutMs).then((doc) => {
        const url = doc['userinfo_endpoint'];
        if (typeof url !== 'string') throw new Error('discovery document has no userinfo_endpoint');
        return checkKeyUrl(url, 'userinfo_endpoint').href;
      });
      // A failed discovery is asked again next time, not remembered.
      found.catch(() => endpoints.delete(config.issuer));
      endpoints.set(config.issuer, found);
    }
    return found;
  };

  async function isFirstLogin(identity: Identity): Promise<boolean> {
    if (options.cachedUser?.(identity) !== undefined) return false;
    if (options.findUser === undefined) return true;
    try {
      return (await options.findUser(identity)) === null;
    } catch (err) {
      if (isJitProvisionError(err)) throw err;
      throw new StoreUnavailableError(undefined, { cause: err });
    }
  }

  return async (verified, token) => {
    const { identity, issuer: config } = verified;
    const mode = config.userinfo;
    if (mode !== 'first-login' && mode !== 'always') return identity;
    if (identity.email !== undefined && identity.name !== undefined) return identity;
    const done = filled.get(verified);
    if (done !== undefined) return done;
    if (mode === 'first-login' && !(await isFirstLogin(identity))) return identity;
    let claims: Claims;
    try {
      claims = await fetchUserinfo(await endpointOf(config), token, timeoutMs);
    } catch (cause) {
      throw unavailable(config.issuer, cause);
    }
    if (claims.sub !== identity.subject) {
      throw new InvalidTokenError('invalid_claim', 'The userinfo subject is not the token subject', {
        issuer: config.issuer,
      });
    }
    const profile = identityFromClaims(claims, config);
    const merged: Identity = { ...identity };
    if (merged.email === undefined && profile.email !== undefined) {
      merged.email = profile.email;
      if (profile.emailVerified !== undefined) merged.emailVerified = profile.emailVerified;
    }
    if (merged.name === undefined && profile.name !== undefined) merged.name = profile.name;
    if (mode === 'always') filled.set(verified, merged);
    return merged;
  };
}
