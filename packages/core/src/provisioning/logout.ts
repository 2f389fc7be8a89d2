import { InvalidTokenError } from '../errors';
import type { UserLifecycle } from '../lifecycle';
import type { Store } from '../store';
import type { LogoutRequest } from '../token';
import type { SessionRevocations } from './sessions';

/** Options of {@link Provisioner.receiveLogoutToken}. */
export interface LogoutTokenOptions {
  /** Oldest logout token accepted (by `iat`), seconds; default 300. Bounds how long a `jti` is remembered. */
  maxAgeSec?: number;
  /**
   * How long a revoked `sid` is refused, ms; default 24 h. Set it to at least the longest lifetime of your
   * provider's access tokens: after it, a token carrying that `sid` would be accepted again.
   */
  sessionTtlMs?: number;
}

/**
 * Apply one back-channel logout token: validate it, claim its `jti` (a replay is refused in every process),
 * then end what it names: its `sid` (refused from now on, for `sessionTtlMs`) and its `sub`'s sessions
 * (`tokensValidAfter` = the logout token's `iat`, event `user.sessions_revoked` with actor `backchannel`;
 * an unknown `sub` changes nothing).
 */
export function createLogoutReceiver(
  store: Store,
  sessions: SessionRevocations | undefined,
  verifier: { verifyLogout(token: string, maxAgeSec: number): Promise<LogoutRequest> },
  lifecycle: Pick<UserLifecycle, 'revokeSessions'>,
) {
  return async (token: string, options: LogoutTokenOptions = {}): Promise<void> => {
    if (store.logout === undefined || sessions === undefined)
      throw new InvalidTokenError('untrusted_issuer', 'back-channel logout is not set up');
    const request = await verifier.verifyLogout(token, options.maxAgeSec ?? 300);
    const first = await store.logout.claimJti(request.issuer, request.jti, new Date(request.replayUntil));
    if (!first) throw new InvalidTokenError('invalid_claim', 'logout token replayed (jti)');
    if (request.sid !== undefined) {
      const expiresAt = new Date(Date.now() + (options.sessionTtlMs ?? 86_400_000));
      await sessions.revoke({ issuer: request.issuer, sid: request.sid, expiresAt });
    }
    if (request.sub !== undefined && store.users !== undefined) {
      const user = await store.lookup({ issuer: request.issuer, subject: request.sub });
      if (user !== null) {
        await lifecycle.revokeSessions(user.id, { actor: 'backchannel', at: new Date(request.issuedAt) });
      }
    }
  };
}
