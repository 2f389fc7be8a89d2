import { createHash } from 'node:crypto';
import type { UserChange, UserChangeFeed, UserChangeStatus } from '@jit-provision/core';
import pg from 'pg';

/** Tuning of the store's change listener (`createPostgresStore({ listen })`). */
export interface ListenOptions {
  /**
   * Where the listener connects, when not where the pool does: LISTEN needs a session connection, so behind
   * PgBouncer in transaction mode point this at the server directly (or at a session-mode pool).
   */
  connectionString?: string;
  /**
   * How often the listener proves its connection alive (a `SELECT 1` that must answer within the same
   * time), ms. Default 2,000. A connection that died silently is noticed within twice this, and the
   * provisioners' user caches are bypassed from then on: it bounds staleness in the worst case.
   */
  heartbeatMs?: number;
  /** First and longest pause between reconnection attempts, ms (doubling, with jitter). Default 100 and 5,000. */
  reconnect?: { minMs?: number; maxMs?: number };
}

/**
 * The NOTIFY channel of a schema's users table: `jit_provision_users_` + md5(schema), the same name the
 * migration's trigger computes from `TG_TABLE_SCHEMA` (a channel name is limited to 63 bytes; a schema name
 * may take all of them).
 *
 * @example
 * ```ts
 * await client.query(`LISTEN ${changesChannel('jit_provision')}`); // watch changes by hand
 * ```
 */
export function changesChannel(schema: string): string {
  return `jit_provision_users_${createHash('md5').update(schema).digest('hex')}`;
}

// The client's socket: pg has no public handle on it, and a dead or frozen connection needs one (`end()`
// waits for the server's goodbye, which never comes).
const socketOf = (client: pg.Client) =>
  (client as unknown as { connection?: { stream?: { destroy?: () => void; unref?: () => void } } }).connection
    ?.stream;

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

interface Subscriber {
  listener: (change: UserChange) => void;
  onStatus: ((status: UserChangeStatus) => void) | undefined;
}

/** A change feed with its connection's lifetime: `close()` ends the connection for good. */
export interface PostgresChangeFeed extends UserChangeFeed {
  close(): Promise<void>;
}

function parse(payload: string | undefined): UserChange | 'resync' {
  try {
    const value = JSON.parse(payload ?? '') as { id?: unknown; issuer?: unknown; subject?: unknown };
    if (
      typeof value.id === 'string' &&
      typeof value.issuer === 'string' &&
      typeof value.subject === 'string'
    ) {
      return { userId: value.id, issuer: value.issuer, subject: value.subject };
    }
  } catch {
    // Not ours, or cut short: fall through to a resync, which loses nothing.
  }
  return 'resync';
}

/**
 * The store's {@link UserChangeFeed}: one dedicated `pg.Client` per store (not a pool checkout) LISTENs on
 * the schema's channel, opened with the first subscriber and closed with the last. Lost connections are
 * reported `'down'` at once and retried with backoff; a heartbeat catches connections that die silently.
 */
export function createPostgresChangeFeed(
  config: pg.ClientConfig,
  schema: string,
  options: ListenOptions = {},
): PostgresChangeFeed {
  const channel = changesChannel(schema);
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const minMs = options.reconnect?.minMs ?? 100;
  const maxMs = options.reconnect?.maxMs ?? 5_000;
  const subscribers = new Set<Subscriber>();
  let client: pg.Client | undefined;
  let status: UserChangeStatus = 'down';
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;

  function report(next: UserChangeStatus, force = false): void {
    if (next === status && !force) return;
    status = next;
    for (const { onStatus } of subscribers) onStatus?.(next);
  }

  function deliver(message: pg.Notification): void {
    if (message.channel !== channel) return;
    const change = parse(message.payload);
    if (change === 'resync') {
      report('up', true);
      return;
    }
    for (const { listener } of subscribers) {
      try {
        listener(change);
      } catch {
        // A subscriber's bug must not stop the others from hearing the change.
      }
    }
  }

  const active = () => !closed && subscribers.size > 0;

  function drop(lost: pg.Client): void {
    if (lost !== client) return;
    client = undefined;
    clearInterval(heartbeat);
    socketOf(lost)?.destroy?.();
    report('down');
    schedule();
  }

  function schedule(): void {
    if (!active() || retry !== undefined || client !== undefined) return;
    const ceiling = Math.min(maxMs, minMs * 2 ** failures);
    failures++;
    retry = setTimeout(
      () => {
        retry = undefined;
        // open() settles every connection failure itself; this only keeps a surprise from going unhandled.
        connect().catch(() => schedule());
      },
      ceiling / 2 + Math.random() * (ceiling / 2),
    );
    retry.unref();
  }

  function connect(): Promise<void> {
    connecting ??= open().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  async function open(): Promise<void> {
    if (!active() || client !== undefined) return;
    const next = new pg.Client(config);
    const connectMs = config.connectionTimeoutMillis || 10_000;
    // Before connect: an unheard 'error' (the backend terminated, the network gone) would crash the process.
    next.on('error', () => drop(next));
    next.on('end', () => drop(next));
    next.on('notification', deliver);
    try {
      // Bounded: a server that accepts and never answers must not stall reconnection (or close()) forever.
      await withDeadline(
        next.connect().then(() => next.query(`LISTEN ${channel}`)),
        connectMs,
      );
    } catch {
      next.removeAllListeners('end');
      socketOf(next)?.destroy?.();
      report('down');
      schedule();
      return;
    }
    if (!active()) {
      await close(next);
      return;
    }
    // The listener alone must not keep the process alive (like the outbox timer): the app's server does.
    socketOf(next)?.unref?.();
    client = next;
    failures = 0;
    heartbeat = setInterval(() => beat(next), heartbeatMs);
    heartbeat.unref();
    // LISTEN is in place: everything committed from here on is delivered. Subscribers clear what they hold.
    report('up', true);
  }

  let beating = false;
  function beat(current: pg.Client): void {
    if (beating) return;
    beating = true;
    // A notification committed before this query started is delivered before its answer, so an answer
    // proves nothing older was lost.
    withDeadline(current.query('SELECT 1'), heartbeatMs)
      .catch(() => drop(current))
      .finally(() => {
        beating = false;
      });
  }

  async function stop(): Promise<void> {
    clearTimeout(retry);
    retry = undefined;
    clearInterval(heartbeat);
    const current = client;
    client = undefined;
    status = 'down';
    // A connection attempt in flight ends itself when it completes (nobody is subscribed any more).
    if (current !== undefined) await close(current);
  }

  async function close(done: pg.Client): Promise<void> {
    done.removeAllListeners('end');
    await withDeadline(done.end(), 1_000).catch(() => socketOf(done)?.destroy?.());
  }

  return {
    async subscribe(listener, subscribeOptions = {}) {
      if (closed) throw new Error('the store is closed');
      const { onStatus } = subscribeOptions;
      let heard = false;
      const subscriber: Subscriber = {
        listener,
        onStatus: (next) => {
          heard = true;
          onStatus?.(next);
        },
      };
      // Registered before connecting, so it hears every change from the moment LISTEN is in place.
      subscribers.add(subscriber);
      if (client === undefined) await connect();
      // A late subscriber (or one the first attempt did not report to) hears the current state once.
      if (!heard) subscriber.onStatus?.(status);
      return async () => {
        if (!subscribers.delete(subscriber)) return;
        if (subscribers.size === 0) await stop();
      };
    },
    async close() {
      closed = true;
      const left = [...subscribers];
      subscribers.clear();
      await stop();
      for (const { onStatus } of left) onStatus?.('down');
    },
  };
}
