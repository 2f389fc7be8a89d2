import type { RevokedSession } from './logout';

/** One changed (or deleted) user, as a {@link UserChangeFeed} reports it: the row's id and identity key before the change. */
export interface UserChange {
  userId: string;
  issuer: string;
  subject: string;
}

/**
 * Health of a {@link UserChangeFeed} subscription.
 * - `'up'`: from now on every change is reported. Changes before this moment may have been missed, so a
 *   subscriber drops everything it derived from earlier reads (a user cache clears itself). A feed may
 *   report `'up'` again while up to say "I lost track of some changes, resync" (store-postgres does so for a
 *   notification too large to carry its key).
 * - `'down'`: changes may be missed from now on (connection lost, heartbeat late, feed closed), until the
 *   next `'up'`. A user cache is bypassed meanwhile.
 */
export type UserChangeStatus = 'up' | 'down';

/** Options of {@link UserChangeFeed.subscribe}. */
export interface UserChangeSubscribeOptions {
  /**
   * Called whenever the feed's health changes (see {@link UserChangeStatus}); may be called before
   * `subscribe` resolves. A feed that never calls it is taken to be up once `subscribe` resolves.
   */
  onStatus?: (status: UserChangeStatus) => void;
  /**
   * Called for every session a back-channel logout revoked (`store.logout.revokeSid`), in any process; a feed
   * of a store with a `logout` part reports them, between the same `'up'` and `'down'` as user changes.
   * Must not throw.
   */
  onSessionRevoked?: (session: RevokedSession) => void;
}

/**
 * Push notifications of user changes, so every process's user cache drops a changed user at once instead
 * of serving it until its TTL. Reports every change of an existing user — role, profile, status, deletion,
 * whoever made it (this process, another one, a hand-written SQL statement) — by id and (issuer, subject).
 * Creations need no report: nothing is cached for a user that did not exist.
 *
 * A feed must tell its subscribers when it cannot vouch for delivery (`onStatus('down')`) as soon as it
 * knows, and `'up'` once it can again: the provisioner bypasses its user cache in between, which is what
 * keeps staleness bounded during an outage.
 *
 * @example
 * ```ts
 * const unsubscribe = await store.changes?.subscribe(
 *   ({ userId }) => console.log('changed', userId),
 *   { onStatus: (status) => console.log('feed', status) },
 * );
 * await unsubscribe?.();
 * ```
 */
export interface UserChangeFeed {
  /**
   * Start receiving changes. Resolves once the listener is registered (whether or not the feed is up yet:
   * `onStatus` says), with a function that stops delivery to it. Rejects only when the feed can never work
   * (e.g. misconfigured); connection trouble is reported through `onStatus` and retried by the feed.
   * The listener runs synchronously in the feed's delivery and must not throw.
   */
  subscribe(
    listener: (change: UserChange) => void,
    options?: UserChangeSubscribeOptions,
  ): Promise<() => Promise<void>>;
}
