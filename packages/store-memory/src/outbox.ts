import { randomUUID } from 'node:crypto';
import type { Identity, OutboxEvent, OutboxStore } from '@jit-provision/core';

/** The memory store's outbox, plus what the store needs to write events and reset. */
export interface MemoryOutbox extends OutboxStore {
  /** Record a `user.provisioned` event; called in the same synchronous step that inserts the user. */
  add(userId: string, identity: Identity): void;
  clear(): void;
}

const copy = (event: OutboxEvent): OutboxEvent => ({
  ...event,
  identity: { ...event.identity },
  availableAt: new Date(event.availableAt),
  createdAt: new Date(event.createdAt),
  completedAt: event.completedAt === null ? null : new Date(event.completedAt),
});

/**
 * An in-process outbox. Claims are atomic because each method runs without yielding; events live as long
 * as the process, so this gives retries and backoff but not crash durability (use store-postgres for that).
 *
 * @example
 * ```ts
 * const outbox = createMemoryOutbox();
 * outbox.add(user.id, { issuer, subject });
 * const [event] = await outbox.claim({ limit: 1, leaseMs: 60_000 });
 * ```
 */
export function createMemoryOutbox(): MemoryOutbox {
  const events = new Map<string, OutboxEvent>();
  const settle = (id: string, change: Partial<OutboxEvent>) => {
    const event = events.get(id);
    if (event !== undefined && event.status === 'pending') Object.assign(event, change);
  };

  return {
    add(userId, identity) {
      const now = new Date();
      const id = randomUUID();
      events.set(id, {
        id,
        type: 'user.provisioned',
        userId,
        identity: { ...identity },
        status: 'pending',
        attempts: 0,
        lastError: null,
        availableAt: now,
        createdAt: now,
        completedAt: null,
      });
    },

    async claim({ limit, leaseMs }) {
      const now = Date.now();
      const claimed: OutboxEvent[] = [];
      // Map iteration is insertion order: oldest first.
      for (const event of events.values()) {
        if (claimed.length >= limit) break;
        if (event.status !== 'pending' || event.availableAt.getTime() > now) continue;
        event.attempts += 1;
        event.availableAt = new Date(now + leaseMs);
        claimed.push(copy(event));
      }
      return claimed;
    },

    async complete(id) {
      settle(id, { status: 'done', completedAt: new Date() });
    },

    async fail(id, { error, retryAt }) {
      settle(
        id,
        retryAt === null
          ? { status: 'failed', lastError: error, completedAt: new Date() }
          : { lastError: error, availableAt: new Date(retryAt) },
      );
    },

    async retry(id) {
      const event = events.get(id);
      if (event === undefined) return false;
      if (event.status !== 'pending') {
        Object.assign(event, { status: 'pending', attempts: 0, availableAt: new Date(), completedAt: null });
      }
      return true;
    },

    async list(filter = {}) {
      const limit = filter.limit ?? 100;
      const users = filter.userIds === undefined ? undefined : new Set(filter.userIds);
      const out: OutboxEvent[] = [];
      for (const event of events.values()) {
        if (out.length >= limit) break;
        if (filter.status !== undefined && event.status !== filter.status) continue;
        if (users !== undefined && !users.has(event.userId)) continue;
        out.push(copy(event));
      }
      return out;
    },

    clear() {
      events.clear();
    },
  };
}
