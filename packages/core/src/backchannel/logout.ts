import type { Route, RouteRequest, RouteResponse } from '../adapter';
import { ConfigurationError, InvalidRequestError, isJitProvisionError } from '../errors';
import type { LogoutTokenOptions, Provisioner } from '../provisioning';

/** Largest back-channel logout body accepted: 16 KiB (a logout token is well under 2 KiB). */
export const BACKCHANNEL_MAX_BODY_BYTES = 16_384;

/** Options of {@link backchannelLogout}. */
export interface BackchannelLogoutOptions extends LogoutTokenOptions {
  /**
   * The provisioner whose issuers (with `backchannelLogout: { clientId }`) send logout tokens; its store
   * needs the `logout` part (store-memory, store-postgres) and the `users` part.
   */
  provisioner: Provisioner;
}

/** What {@link backchannelLogout} returns: one `POST /` route to mount where the provider sends logout tokens. */
export interface BackchannelLogout {
  routes: Route[];
}

const NO_STORE = { 'cache-control': 'no-store' };

/** The one refusal: nothing about the token, its claims or the store leaks. */
const refusal = (description: string): never => {
  throw new InvalidRequestError(description);
};

/**
 * The OpenID Connect Back-Channel Logout 1.0 receiver, as a route table: `POST /` with a form body holding
 * `logout_token`. A valid token (§2.6: signature from the issuer's JWKS and an allowed algorithm, trusted
 * `iss`, `aud` = the issuer's `backchannelLogout.clientId`, `iat`, `exp` when present, the logout `events`
 * member, `sub` and/or `sid`, no `nonce`, a `jti` never seen before in any process) ends what it names:
 * every access token carrying its `sid` is refused from then on (401 `invalid_token`, reason
 * `session_revoked`), and its `sub`'s sessions are revoked as of its `iat` (`user.sessions_revoked`, actor
 * `backchannel`; an unknown `sub` changes nothing). Answers 200 with `Cache-Control: no-store`, 400
 * `invalid_request` for anything invalid. Mount it with your adapter's route-table mounter at the URI you
 * register with the provider as the client's `backchannel_logout_uri`.
 *
 * @example
 * ```ts
 * import { backchannelLogout } from '@jit-provision/core/backchannel';
 * import { router } from '@jit-provision/adapter-express';
 *
 * app.use('/auth/backchannel-logout', router(backchannelLogout({ provisioner }).routes));
 * ```
 */
export function backchannelLogout(options: BackchannelLogoutOptions): BackchannelLogout {
  const { provisioner, ...tokenOptions } = options;
  if (typeof provisioner?.receiveLogoutToken !== 'function') {
    throw new ConfigurationError('backchannelLogout needs a provisioner created by createProvisioner');
  }
  const receive = (token: string) => provisioner.receiveLogoutToken?.(token, tokenOptions);
  const { maxAgeSec, sessionTtlMs } = tokenOptions;
  if (maxAgeSec !== undefined && !(Number.isFinite(maxAgeSec) && maxAgeSec > 0 && maxAgeSec <= 3_600))
    throw new ConfigurationError('maxAgeSec must be between 1 and 3600 seconds');
  if (sessionTtlMs !== undefined && !(Number.isFinite(sessionTtlMs) && sessionTtlMs >= 60_000))
    throw new ConfigurationError('sessionTtlMs must be at least 60,000 ms');

  async function handler(request: RouteRequest): Promise<RouteResponse> {
    const body = request.body as Record<string, unknown> | undefined;
    const token = body === undefined ? undefined : body['logout_token'];
    if (typeof token !== 'string' || token.length === 0) refusal('logout_token is required, once');
    try {
      await receive(token as string);
    } catch (err) {
      if (isJitProvisionError(err, 'invalid_token')) refusal(`invalid logout token (${err.reason})`);
      throw err;
    }
    return { status: 200, headers: NO_STORE };
  }

  return {
    routes: [
      {
        method: 'POST',
        path: '/',
        public: true,
        bodyType: 'form',
        maxBodyBytes: BACKCHANNEL_MAX_BODY_BYTES,
        headers: NO_STORE,
        handler,
      },
    ],
  };
}
