import { ConfigurationError } from '../errors';
import { describeError } from '../internal';
import type { LogoutStore, RevokedSession, UserChangeFeed, UserChangeStatus } from '../store';
import type { IssuerConfig, Logger } from '../types';

/** Default of `maxRevokedSessions`: revoked sessions held in memory before the check goes to the store. */
export const DEFAULT_MAX_REVOKED_SESSIONS = 10_000;

/**
 * The sessions (`sid`) back-channel logout ended, as every request checks them. Answered in memory while the
 * store's change feed vouches for this process having heard every revocation (up, and the revoked sessions
 * loaded since); otherwise — no feed, feed down, or more revoked sessions than `max` — from the store.
 */
export interface SessionRevocations {
  /** true revoked, false not, undefined when only the store can tell. Synchronous: the cache-hit path calls it. */
  check(issuer: string, sid: string): boolean | undefined;
  /** The answer, from memory or the store. */
  isRevoked(issuer: string, sid: string): Promise<boolean>;
  /** Revoke in the store (which tells every process) and here at once. */
  revoke(session: RevokedSession): Promise<void>;
  close(): Promise<void>;
}

interface State {
  readonly sids: Map<string, Map<string, number>>;
  size: number;
  /** The in-memory set is complete: feed up, loaded since, never over `max`. */
  reliable: boolean;
  /** Bumped on every status change, so a load that started before one is discarded. */
  generation: number;
}

function remember(state: State, { issuer, sid, expiresAt }: RevokedSession, max: number): void {
  const until = expiresAt.getTime();
  if (until <= Date.now()) return;
  let bySid = state.sids.get(issuer);
  if (bySid === undefined) {
    bySid = new Map();
    state.sids.set(issuer, bySid);
  }
  const before = bySid.get(sid);
  if (before === undefined) state.size++;
  bySid.set(sid, Math.max(before ?? 0, until));
  if (state.size > max) sweep(state, max);
}

/** Drop expired entries; still over `max`, the set cannot vouch for itself and the store answers. */
function sweep(state: State, max: number): void {
  const now = Date.now();
  for (const [issuer, bySid] of state.sids) {
    for (const [sid, until] of bySid) {
      if (until <= now) {
        bySid.delete(sid);
        state.size--;
      }
    }
    if (bySid.size === 0) state.sids.delete(issuer);
  }
  if (state.size > max) {
    state.sids.clear();
    state.size = 0;
    state.reliable = false;
  }
}

/**
 * Follow `feed` for revoked sessions. Every `'up'` reloads them from the store (changes before it may have
 * been missed); until that load is done, and while the feed is down, `check` answers undefined.
 */
export function createSessionRevocations(
  store: LogoutStore,
  feed: UserChangeFeed | undefined,
  logger: Logger,
  max: number = DEFAULT_MAX_REVOKED_SESSIONS,
): SessionRevocations {
  const state: State = { sids: new Map(), size: 0, reliable: false, generation: 0 };
  let closed = false;
  let reported = false;

  const load = async (generation: number) => {
    try {
      const sessions = await store.revokedSids(max);
      if (generation !== state.generation || closed) return;
      if (sessions.length > max) return;
      for (const session of sessions) remember(state, session, max);
      state.reliable = state.size <= max;
    } catch (err) {
      logger.warn({ err: describeError(err) }, 'revoked sessions could not be loaded: checked in the store');
    }
  };
  const onStatus = (status: UserChangeStatus) => {
    reported = true;
    state.generation++;
    state.reliable = false;
    state.sids.clear();
    state.size = 0;
    if (status === 'up' && !closed) void load(state.generation);
  };
  const subscribed =
    feed === undefined
      ? undefined
      : Promise.resolve()
          .then(() =>
            feed.subscribe(() => {}, {
              onStatus,
              onSessionRevoked: (session) => {
                if (!closed) remember(state, session, max);
              },
            }),
          )
          .then((stop) => {
            // A feed that reports no status is up once subscribed.
            if (!reported) onStatus('up');
            return stop;
          })
          .catch((err: unknown) => {
            logger.error(
              { err: describeError(err) },
              'revoked sessions are checked in the store: no change feed',
            );
            return undefined;
          });

  const check = (issuer: string, sid: string): boolean | undefined => {
    if (!state.reliable) return undefined;
    const until = state.sids.get(issuer)?.get(sid);
    return until !== undefined && until > Date.now();
  };

  return {
    check,
    async isRevoked(issuer, sid) {
      return check(issuer, sid) ?? (await store.isSidRevoked(issuer, sid));
    },
    async revoke(session) {
      await store.revokeSid(session.issuer, session.sid, session.expiresAt);
      remember(state, session, max);
    },
    async close() {
      closed = true;
      state.reliable = false;
      const stop = await subscribed;
      await stop?.();
    },
  };
}

/**
 * The revocations a provisioner checks: when an issuer takes back-channel logout. Its store must have the
 * `logout` part (store-memory, store-postgres, store-kysely): without it no logout token could ever be recorded, and a
 * configured `backchannelLogout` would silently end nothing, so that is refused at start-up.
 */
export function sessionRevocationsFor(
  store: { logout?: LogoutStore | undefined; changes?: UserChangeFeed | undefined },
  issuers: readonly IssuerConfig[],
  logger: Logger,
): SessionRevocations | undefined {
  const taking = issuers.find((issuer) => issuer.backchannelLogout !== undefined);
  if (taking === undefined) return undefined;
  if (store.logout === undefined)
    throw new ConfigurationError(
      `${taking.issuer} has backchannelLogout, but the store has no logout part to record logout tokens in ` +
        '(store-memory and store-postgres have one)',
    );
  return createSessionRevocations(store.logout, store.changes, logger);
}
