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

/** What the listener's pieces (connection, heartbeat, dispatch) share: one per feed. */
interface FeedState {
  readonly config: pg.ClientConfig;
  readonly channel: string;
  readonly heartbeatMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly subscribers: Set<Subscriber>;
  /** The connection with LISTEN in place, once up. */
  client: pg.Client | undefined;
  status: UserChangeStatus;
  /** Failed attempts since the last success: the backoff's exponent. */
  failures: number;
  retry: NodeJS.Timeout | undefined;
  heartbeat: NodeJS.Timeout | undefined;
  /** The attempt in flight, so concurrent subscribers share it. */
  connecting: Promise<void> | undefined;
  beating: boolean;
  closed: boolean;
}

// --- dispatch: status and changes to the subscribers

function report(state: FeedState, next: UserChangeStatus, force = false): void {
  if (next === state.status && !force) return;
  state.status = next;
  for (const { onStatus } of state.subscribers) onStatus?.(next);
}

function deliver(state: FeedState, message: pg.Notification): void {
  if (message.channel !== state.channel) return;
  const change = parse(message.payload);
  if (change === 'resync') {
    report(state, 'up', true);
    return;
  }
  for (const { listener } of state.subscribers) {
    try {
      listener(change);
    } catch {
      // A subscriber's bug must not stop the others from hearing the change.
    }
  }
}

// --- connection: open, lose, retry with backoff, stop

const active = (state: FeedState) => !state.closed && state.subscribers.size > 0;

function drop(state: FeedState, lost: pg.Client): void {
  if (lost !== state.client) return;
  state.client = undefined;
  clearInterval(state.heartbeat);
  socketOf(lost)?.destroy?.();
  report(state, 'down');
  schedule(state);
}

function schedule(state: FeedState): void {
  if (!active(state) || state.retry !== undefined || state.client !== undefined) return;
  const ceiling = Math.min(state.maxMs, state.minMs * 2 ** state.failures);
  state.failures++;
  state.retry = setTimeout(
    () => {
      state.retry = undefined;
      // open() settles every connection failure itself; this only keeps a surprise from going unhandled.
      connect(state).catch(() => schedule(state));
    },
    ceiling / 2 + Math.random() * (ceiling / 2),
  );
  state.retry.unref();
}

function connect(state: FeedState): Promise<void> {
  state.connecting ??= open(state).finally(() => {
    state.connecting = undefined;
  });
  return state.connecting;
}

async function open(state: FeedState): Promise<void> {
  if (!active(state) || state.client !== undefined) return;
  const { config } = state;
  const next = new pg.Client(config);
  const connectMs = config.connectionTimeoutMillis || 10_000;
  // Before connect: an unheard 'error' (the backend terminated, the network gone) would crash the process.
  next.on('error', () => drop(state, next));
  next.on('end', () => drop(state, next));
  next.on('notification', (message) => deliver(state, message));
  try {
    // Bounded: a server that accepts and never answers must not stall reconnection (or close()) forever.
    await withDeadline(
      next.connect().then(() => next.query(`LISTEN ${state.channel}`)),
      connectMs,
    );
  } catch {
    next.removeAllListeners('end');
    socketOf(next)?.destroy?.();
    report(state, 'down');
    schedule(state);
    return;
  }
  if (!active(state)) {
    await closeClient(next);
    return;
  }
  // The listener alone must not keep the process alive (like the outbox timer): the app's server does.
  socketOf(next)?.unref?.();
  state.client = next;
  state.failures = 0;
  state.heartbeat = setInterval(() => beat(state, next), state.heartbeatMs);
  state.heartbeat.unref();
  // LISTEN is in place: everything committed from here on is delivered. Subscribers clear what they hold.
  report(state, 'up', true);
}

async function stop(state: FeedState): Promise<void> {
  clearTimeout(state.retry);
  state.retry = undefined;
  clearInterval(state.heartbeat);
  const current = state.client;
  state.client = undefined;
  state.status = 'down';
  // A connection attempt in flight ends itself when it completes (nobody is subscribed any more).
  if (current !== undefined) await closeClient(current);
}

async function closeClient(done: pg.Client): Promise<void> {
  done.removeAllListeners('end');
  await withDeadline(done.end(), 1_000).catch(() => socketOf(done)?.destroy?.());
}

// --- heartbeat: catches a connection that died silently

function beat(state: FeedState, current: pg.Client): void {
  if (state.beating) return;
  state.beating = true;
  // A notification committed before this query started is delivered before its answer, so an answer
  // proves nothing older was lost.
  withDeadline(current.query('SELECT 1'), state.heartbeatMs)
    .catch(() => drop(state, current))
    .finally(() => {
      state.beating = false;
    });
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
  const state: FeedState = {
    config,
    channel: changesChannel(schema),
    heartbeatMs: options.heartbeatMs ?? 2_000,
    minMs: options.reconnect?.minMs ?? 100,
    maxMs: options.reconnect?.maxMs ?? 5_000,
    subscribers: new Set<Subscriber>(),
    client: undefined,
    status: 'down',
    failures: 0,
    retry: undefined,
    heartbeat: undefined,
    connecting: undefined,
    beating: false,
    closed: false,
  };
  const { subscribers } = state;

  return {
    async subscribe(listener, subscribeOptions = {}) {
      if (state.closed) throw new Error('the store is closed');
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
      if (state.client === undefined) await connect(state);
      // A late subscriber (or one the first attempt did not report to) hears the current state once.
      if (!heard) subscriber.onStatus?.(state.status);
      return async () => {
        if (!subscribers.delete(subscriber)) return;
        if (subscribers.size === 0) await stop(state);
      };
    },
    async close() {
      state.closed = true;
      const left = [...subscribers];
      subscribers.clear();
      await stop(state);
      for (const { onStatus } of left) onStatus?.('down');
    },
  };
}
