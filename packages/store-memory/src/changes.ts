import type {
  RevokedSession,
  UserChange,
  UserChangeFeed,
  UserChangeStatus,
  UserRecord,
} from '@jit-provision/core';

/** The in-process feed, plus the two calls the store makes into it. */
export interface MemoryChangeFeed {
  readonly feed: UserChangeFeed;
  /** Report a changed (or deleted) user to every subscriber, synchronously. */
  changed(user: UserRecord): void;
  /** Report a session revoked by back-channel logout to every subscriber, synchronously. */
  sessionRevoked(session: RevokedSession): void;
  /** Tell every subscriber to drop what it derived from earlier reads (the store was cleared). */
  resync(): void;
}

/** The memory store's change feed: always up, and every report lands before the write that caused it resolves. */
export function createMemoryChangeFeed(): MemoryChangeFeed {
  const subscribers = new Set<{
    listener: (change: UserChange) => void;
    onStatus: ((status: UserChangeStatus) => void) | undefined;
    onSessionRevoked: ((session: RevokedSession) => void) | undefined;
  }>();

  return {
    feed: {
      async subscribe(listener, options = {}) {
        const subscriber = {
          listener,
          onStatus: options.onStatus,
          onSessionRevoked: options.onSessionRevoked,
        };
        subscribers.add(subscriber);
        subscriber.onStatus?.('up');
        return async () => {
          subscribers.delete(subscriber);
        };
      },
    },

    changed(user) {
      const change: UserChange = { userId: user.id, issuer: user.issuer, subject: user.subject };
      for (const { listener } of subscribers) {
        try {
          listener(change);
        } catch {
          // One subscriber's failure must not fail the write or starve the others.
        }
      }
    },

    sessionRevoked(session) {
      for (const { onSessionRevoked } of subscribers) {
        try {
          onSessionRevoked?.({ ...session });
        } catch {
          // As for user changes: one subscriber's failure must not fail the write or starve the others.
        }
      }
    },

    resync() {
      for (const { onStatus } of subscribers) onStatus?.('up');
    },
  };
}
