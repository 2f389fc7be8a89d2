import { randomUUID } from 'node:crypto';
import { runHooks } from '../events';
import type { Telemetry } from '../telemetry';
import type { Hook, Identity, Logger, UserEventHook } from '../types';
import type { Outcome } from './create-user';

/** Tells the world about a creation: counts it, then runs its hooks (inline) or hurries its event (outbox). */
export type Announce = (outcome: Outcome, identity: Identity, actor?: string | null) => Promise<void>;

/** What {@link createAnnouncer} needs from the provisioner. */
export interface AnnouncerOptions {
  telemetry: Telemetry;
  outboxMode: boolean;
  /** Makes an outbox delivery prompt; undefined when no dispatcher runs in this process. */
  nudge: () => void;
  hooks: readonly Hook[];
  userEventHooks: readonly UserEventHook[];
  hookTimeoutMs: number;
  logger: Logger;
}

/**
 * Build `announce`: for a created user, `onProvisioned` and `onUserEvent` (`user.provisioned`) run once,
 * inline and bounded by `hookTimeoutMs`; in outbox mode the event is already durable and the dispatcher is
 * only nudged. A row this call did not create announces nothing.
 *
 * @example
 * ```ts
 * const announce = createAnnouncer({ telemetry, outboxMode: false, nudge: () => {}, hooks, userEventHooks, hookTimeoutMs, logger });
 * await announce(outcome, identity);
 * ```
 */
export function createAnnouncer(options: AnnouncerOptions): Announce {
  const { telemetry, outboxMode, nudge, hooks, userEventHooks, hookTimeoutMs, logger } = options;
  return async (outcome, identity, actor = null) => {
    if (outcome.created) telemetry.created();
    // Outbox mode: the event is already durable; only make its delivery prompt.
    if (outboxMode) {
      if (outcome.created) nudge();
      return;
    }
    if (!outcome.created || hooks.length + userEventHooks.length === 0) return;
    const eventId = randomUUID();
    const { user } = outcome;
    const runs = { timeoutMs: hookTimeoutMs, logger, userId: user.id, telemetry };
    await Promise.all([
      runHooks(hooks, { eventId, user, identity }, runs),
      runHooks(
        userEventHooks,
        { type: 'user.provisioned', eventId, userId: user.id, user, actor, at: user.createdAt },
        { ...runs, label: 'onUserEvent' },
      ),
    ]);
  };
}
