import type {
  RevokedSession,
  UserChange,
  UserChangeFeed,
  UserChangeStatus,
  UserChangeSubscribeOptions,
} from '@jit-provision/core';
import { sql } from 'kysely';
import { type Context, rows } from './context';

/** Options of the polled change feed (`createKyselyStore({ changes })`). */
export interface ChangeFeedOptions {
  /**
   * How often the one reader per store reads the change log, in ms (default 500). A change made anywhere
   * reaches every subscriber within about this plus one query's time.
   */
  pollMs?: number;
  /** Change-log rows older than this are deleted, in ms (default one hour). */
  retentionMs?: number;
}

// A sequence number that is missing when a later one is seen may belong to a transaction still running
// (auto-increment values are taken at insert, not at commit): it is looked for again this long.
const GAP_WINDOW_MS = 60_000;
const PAGE = 1_000;

interface Row {
  seq: number | string | bigint;
  user_id: string;
  issuer: string;
  subject: string;
  /** Set on a revoked session's row (`store.logout.revokeSid`), with its `expires_at`. */
  sid: string | null;
  expires_at: unknown;
}

/**
 * The change feed where there is no LISTEN/NOTIFY: triggers write every user change into a change-log
 * table in the changing transaction (and `revokeSid` a row with its `sid`); one reader per store polls it
 * and delivers to every subscriber.
 */
export function createPolledFeed(ctx: Context, options: ChangeFeedOptions = {}) {
  const pollMs = Math.max(10, options.pollMs ?? 500);
  const retentionMs = options.retentionMs ?? 3_600_000;
  const listeners = new Set<{
    listener: (c: UserChange) => void;
    onStatus?: (s: UserChangeStatus) => void;
    onSessionRevoked?: (s: RevokedSession) => void;
  }>();
  let cursor: bigint | undefined;
  const gaps = new Map<bigint, number>();
  let status: UserChangeStatus | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let lastTrim = 0;

  const report = (next: UserChangeStatus) => {
    if (next === status) return;
    status = next;
    for (const l of listeners) l.onStatus?.(next);
  };

  const deliver = (row: Row) => {
    if (row.sid === null || row.sid === undefined) {
      for (const l of listeners)
        l.listener({ userId: row.user_id, issuer: row.issuer, subject: row.subject });
      return;
    }
    const session = { issuer: row.issuer, sid: row.sid, expiresAt: ctx.d.readTime(row.expires_at) };
    for (const l of listeners) l.onSessionRevoked?.({ ...session });
  };

  async function poll(): Promise<void> {
    const { T, db } = ctx;
    if (cursor === undefined) {
      const top = await rows<{ top: number | string | null }>(
        db,
        sql`SELECT MAX(seq) AS top FROM ${T.changes}`,
      );
      cursor = BigInt(top[0]?.top ?? 0);
      report('up');
      return;
    }
    const missing = [...gaps.keys()];
    const again = missing.length === 0 ? sql`` : sql` OR seq IN (${sql.join(missing.map(String))})`;
    const found = await rows<Row>(
      db,
      sql`SELECT ${ctx.d.select('seq, user_id, issuer, subject, sid, expires_at')} FROM ${T.changes}
          WHERE seq > ${String(cursor)}${again} ORDER BY seq LIMIT ${PAGE}`,
    );
    const now = Date.now();
    for (const row of found) {
      const seq = BigInt(row.seq);
      gaps.delete(seq);
      if (seq > cursor) {
        for (let s = cursor + 1n; s < seq && gaps.size < 10_000; s++) gaps.set(s, now);
        cursor = seq;
      }
      deliver(row);
    }
    for (const [seq, since] of gaps) if (now - since > GAP_WINDOW_MS) gaps.delete(seq);
    report('up');
    if (now - lastTrim > 60_000) {
      lastTrim = now;
      await sql`DELETE FROM ${T.changes} WHERE changed_at < ${ctx.d.time(new Date(now - retentionMs))}`.execute(
        db,
      );
    }
  }

  const schedule = () => {
    if (listeners.size === 0) return;
    timer = setTimeout(() => {
      running = poll()
        .catch(() => {
          // Changes may be missed until a poll works again: caches are bypassed meanwhile.
          report('down');
        })
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, pollMs);
    timer.unref?.();
  };

  async function stop(): Promise<void> {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    await running;
    cursor = undefined;
    status = undefined;
  }

  const feed: UserChangeFeed = {
    async subscribe(listener, subscribeOptions: UserChangeSubscribeOptions = {}) {
      const entry = {
        listener,
        ...(subscribeOptions.onStatus ? { onStatus: subscribeOptions.onStatus } : {}),
        ...(subscribeOptions.onSessionRevoked ? { onSessionRevoked: subscribeOptions.onSessionRevoked } : {}),
      };
      const first = listeners.size === 0;
      listeners.add(entry);
      if (first) {
        // The first read sets the cursor now, so "up" means: everything after this moment is delivered.
        running = poll().catch(() => report('down'));
        await running;
        running = undefined;
        schedule();
      } else if (status !== undefined) entry.onStatus?.(status); // a late subscriber hears where the feed stands
      return async () => {
        listeners.delete(entry);
        if (listeners.size === 0) await stop();
      };
    },
  };
  return { feed, close: stop, pollMs };
}
