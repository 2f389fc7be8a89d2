import type { Identity, UserEventType } from '../types';

/** `pending`: waiting for (re)delivery; `done`: every hook succeeded; `failed`: gave up after max attempts. */
export type OutboxStatus = 'pending' | 'done' | 'failed';

/**
 * A durable user event: a first signup, or a lifecycle change written by a {@link UserLifecycleStore}
 * method. Its `id` is the idempotency key hooks receive as `eventId`.
 */
export interface OutboxEvent {
  id: string;
  type: UserEventType;
  userId: string;
  /** The login's identity (`user.provisioned`), or the user's `{ issuer, subject }` (lifecycle events). */
  identity: Identity;
  /** Who made a lifecycle change (`UserEventInput.actor`); null for logins. */
  actor: string | null;
  /** The event's `data` (e.g. `{ from, to, source }` of a role change); null when it has none. */
  data: Record<string, unknown> | null;
  status: OutboxStatus;
  /** Deliveries started so far; `claim` increments it. */
  attempts: number;
  lastError: string | null;
  /** Not claimed before this: the retry time, or the end of the current claim's lease. */
  availableAt: Date;
  createdAt: Date;
  /** When it became `done` or `failed`. */
  completedAt: Date | null;
}

/**
 * Durable side-effect events written atomically with the user row (see `NewUser.emitEvent`), delivered by
 * `createOutboxDispatcher`. Several dispatchers may share one outbox: `claim` never hands one event to
 * two live claims (Postgres: `FOR UPDATE SKIP LOCKED`).
 */
export interface OutboxStore {
  /**
   * Take up to `limit` pending events whose `availableAt` has passed, oldest first: increments their
   * `attempts` and hides them for `leaseMs` (so a crashed claimer's events come back by themselves).
   */
  claim(options: { limit: number; leaseMs: number }): Promise<OutboxEvent[]>;
  /** Mark delivered (`done`). A no-op for an event that is no longer pending. */
  complete(id: string): Promise<void>;
  /**
   * Record a failed delivery of a pending event: retry at `retryAt`, or with `retryAt: null` mark it
   * `failed` (kept, visible to `list`). A no-op for an event that is no longer pending.
   */
  fail(id: string, outcome: { error: string; retryAt: Date | null }): Promise<void>;
  /**
   * Deliver an event again (an operator's retry): a `failed` or `done` event becomes `pending`, due now,
   * with `attempts` back at 0 so it gets a whole new round of deliveries; a `pending` one is left as it
   * is (it is due or claimed already). False when there is no such event. Optional: stores written before
   * it may lack it.
   */
  retry?(id: string): Promise<boolean>;
  /**
   * Events, oldest first, optionally by status and by user (default limit 100). `userIds` lets a caller find
   * its own events in a long-lived table, where the oldest `limit` rows are someone else's.
   */
  list(filter?: {
    status?: OutboxStatus;
    userIds?: readonly string[];
    limit?: number;
  }): Promise<OutboxEvent[]>;
}
