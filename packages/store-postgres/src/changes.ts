import { createHash, randomBytes } from 'node:crypto';
import type { RevokedSession, UserChange, UserChangeFeed, UserChangeStatus } from '@jit-provision/core';
import pg from 'pg';
import { guardPool } from './pool-guard';

/** Tuning of the store's change listener (`createPostgresStore({ listen })`). */
export interface ListenOptions {
  /**
   * Where the listener connects, when not where the pool does: LISTEN needs a session connection, so behind
   * PgBouncer in transaction mode point this at the server directly (or at a session-mode pool).
   */
  connectionString?: string;
  /**
   * How often the listener proves that notifications reach it, ms. Default 2,000. Each heartbeat sends a
   * NOTIFY on the listener's own channel from another connection (where the store's pool connects; one
   * more connection per store while the feed runs), which the listener must receive back
   * within the same time. A connection that died silently, or one that cannot hear (behind a
   * transaction-mode pooler), is reported down within twice this, and the provisioners' user caches are
   * bypassed from then on: it bounds staleness whatever the topology.
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
  onSessionRevoked: ((session: RevokedSession) => void) | undefined;
}

/** A change feed with its connection's lifetime: `close()` ends the connection for good. */
export interface PostgresChangeFeed extends UserChangeFeed {
  close(): Promise<void>;
}

function parse(payload: string | undefined): UserChange | RevokedSession | 'resync' {
  try {
    const value = JSON.parse(payload ?? '') as {
      id?: unknown;
      issuer?: unknown;
      subject?: unknown;
      kind?: unknown;
      sid?: unknown;
      expiresAt?: unknown;
    };
    // A session a back-channel logout revoked (store.logout.revokeSid), on the same channel.
    if (
      value.kind === 'sid' &&
      typeof value.issuer === 'string' &&
      typeof value.sid === 'string' &&
      typeof value.expiresAt === 'number'
    ) {
      return { issuer: value.issuer, sid: value.sid, expiresAt: new Date(value.expiresAt) };
    }
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
 * Sends the heartbeat's NOTIFY from another session than the listener's, connected where the store's pool
 * is: a listener could always hear itself (behind PgBouncer in transaction mode it gets its own
 * notifications back, from the server session its LISTEN is on, and no one else's). A one-connection pool of
 * its own, not the store's: the heartbeat neither waits behind requests nor shows up in their queries.
 */
interface Sender {
  send(channel: string, payload: string): Promise<void>;
  end(): Promise<void>;
}

function createSender(config: pg.PoolConfig, heartbeatMs: number): Sender {
  let pool: pg.Pool | undefined;
  return {
    async send(channel, payload) {
      if (pool === undefined) {
        pool = new pg.Pool({
          ...config,
          max: 1,
          allowExitOnIdle: true,
          // A client whose NOTIFY did not answer in time is destroyed (pg-pool drops a client whose
          // pool.query failed), so a frozen connection does not fail every later heartbeat.
          query_timeout: heartbeatMs,
          connectionTimeoutMillis: config.connectionTimeoutMillis || heartbeatMs,
        });
        guardPool(pool);
      }
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async end() {
      const ended = pool;
      pool = undefined;
      await ended?.end().catch(() => {});
    },
  };
}

/** What the listener's pieces (connection, heartbeat, dispatch) share: one per feed. */
interface FeedState {
  readonly config: pg.ClientConfig;
  readonly channel: string;
  /** The heartbeat's own channel, one per feed. */
  readonly heartbeatChannel: string;
  readonly sender: Sender;
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
  /** Connections with a heartbeat in flight (one at a time each). */
  readonly beating: WeakSet<pg.Client>;
  /** Heartbeats waiting for their notification, by payload. */
  readonly echoes: Map<string, () => void>;
  /** Heartbeats sent so far: each one's payload is unique. */
  beats: number;
  /** The deaf-listener warning was given (once per feed). */
  warned: boolean;
  closed: boolean;
}

// --- dispatch: status and changes to the subscribers

function report(state: FeedState, next: UserChangeStatus, force = false): void {
  if (next === state.status && !force) return;
  state.status = next;
  for (const { onStatus } of state.subscribers) onStatus?.(next);
}

function deliver(state: FeedState, message: pg.Notification): void {
  if (message.channel === state.heartbeatChannel) {
    if (message.payload !== undefined) state.echoes.get(message.payload)?.();
    return;
  }
  if (message.channel !== state.channel) return;
  const change = parse(message.payload);
  if (change === 'resync') {
    report(state, 'up', true);
    return;
  }
  if ('sid' in change) {
    for (const { onSessionRevoked } of state.subscribers) {
      try {
        onSessionRevoked?.({ ...change });
      } catch {
        // As for user changes: one subscriber's bug must not stop the others.
      }
    }
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
    // One query, so a pooler that hands out server sessions per transaction puts both on the same one.
    await withDeadline(
      next.connect().then(() => next.query(`LISTEN ${state.channel}; LISTEN ${state.heartbeatChannel}`)),
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
  // LISTEN is in place, but only a notification received back proves that what is committed from here on
  // reaches this connection. Then subscribers clear what they hold and caching resumes.
  if (!(await prove(state, next)) || state.client !== next) return;
  state.failures = 0;
  state.heartbeat = setInterval(() => beat(state, next), state.heartbeatMs);
  state.heartbeat.unref();
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
  await state.sender.end();
}

async function closeClient(done: pg.Client): Promise<void> {
  done.removeAllListeners('end');
  await withDeadline(done.end(), 1_000).catch(() => socketOf(done)?.destroy?.());
}

// --- heartbeat: proves delivery, so a connection that died silently or cannot hear is caught

const DEAF_WARNING =
  "jit-provision: the change feed's listener is connected but receives no notifications (is it behind a " +
  'pooler in transaction mode?): user caches are bypassed. Give it a session connection with ' +
  '`listen.connectionString` (the server itself, or a session-mode pool).';

/**
 * Send a NOTIFY on the feed's heartbeat channel from the sender (another session) and wait for the listener
 * to receive it, both within `heartbeatMs`. Notifications reach a listener in commit order, so receiving it proves that every
 * change committed before it was delivered. An answered query would not: behind a transaction-mode pooler
 * the LISTEN stays on a server session this connection no longer holds, and queries still answer. On
 * failure the connection is dropped (reported down, retried with backoff). True when proven.
 */
async function prove(state: FeedState, current: pg.Client): Promise<boolean> {
  // Stopped meanwhile: no NOTIFY (it would open the sender again, with nobody left to end it).
  if (!active(state)) return false;
  const payload = String(++state.beats);
  const heard = new Promise<void>((resolve) => state.echoes.set(payload, resolve));
  // Whether the listener's connection still answers queries once the NOTIFY is committed: if it does and the
  // notification never comes, the connection is alive but deaf (the warning); if not, it is merely dead.
  let answers = false;
  try {
    await withDeadline(
      state.sender.send(state.heartbeatChannel, payload).then(() => {
        current.query('SELECT 1').then(
          () => {
            answers = true;
          },
          () => {},
        );
        return heard;
      }),
      state.heartbeatMs,
    );
    return true;
  } catch {
    if (answers && state.client === current && !state.warned) {
      state.warned = true;
      process.emitWarning(DEAF_WARNING, { code: 'JIT_PROVISION_CHANGE_FEED_DEAF' });
    }
    drop(state, current);
    return false;
  } finally {
    state.echoes.delete(payload);
  }
}

function beat(state: FeedState, current: pg.Client): void {
  if (state.beating.has(current)) return;
  state.beating.add(current);
  // prove() settles every failure itself (by dropping the connection).
  void prove(state, current).finally(() => state.beating.delete(current));
}

/**
 * The store's {@link UserChangeFeed}: one dedicated `pg.Client` per store (not a pool checkout) LISTENs on
 * the schema's channel, opened with the first subscriber and closed with the last. Lost connections are
 * reported `'down'` at once and retried with backoff. The feed is `'up'` only once a heartbeat (a NOTIFY
 * sent from another connection, to where `sendConfig` points, and received back) proved delivery, and goes
 * down when one fails: that catches connections that die silently and connections that cannot hear (a
 * transaction-mode pooler).
 */
export function createPostgresChangeFeed(
  config: pg.ClientConfig,
  schema: string,
  sendConfig: pg.PoolConfig,
  options: ListenOptions = {},
): PostgresChangeFeed {
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const state: FeedState = {
    config,
    channel: changesChannel(schema),
    heartbeatChannel: `jit_provision_heartbeat_${randomBytes(8).toString('hex')}`,
    sender: createSender(sendConfig, heartbeatMs),
    heartbeatMs,
    minMs: options.reconnect?.minMs ?? 100,
    maxMs: options.reconnect?.maxMs ?? 5_000,
    subscribers: new Set<Subscriber>(),
    client: undefined,
    status: 'down',
    failures: 0,
    retry: undefined,
    heartbeat: undefined,
    connecting: undefined,
    beating: new WeakSet<pg.Client>(),
    echoes: new Map<string, () => void>(),
    beats: 0,
    warned: false,
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
        onSessionRevoked: subscribeOptions.onSessionRevoked,
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
