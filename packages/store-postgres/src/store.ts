import type {
  InvitationStore,
  LogoutStore,
  NewUser,
  OutboxStore,
  ReservationStore,
  ScimStore,
  Store,
  StoreCheckResult,
  UserChangeFeed,
  UserLifecycleStore,
  UserRecord,
} from '@jit-provision/core';
import pg from 'pg';
import { createPostgresChangeFeed, type ListenOptions } from './changes';
import { checkSchema } from './check';
import { assertConfigOneEndpoint, assertOneEndpoint } from './connection-target';
import { createExecutor } from './executor';
import { createPostgresInvitationStore } from './invitations';
import { createPostgresLogoutStore } from './logout';
import { createPostgresOutboxStore } from './outbox';
import { toStoreError } from './pg-errors';
import { createPostgresReservations } from './reservations';
import { toUser, type UserRow } from './rows';
import { DEFAULT_SCHEMA } from './schema-name';
import { createPostgresScimStore } from './scim';
import { statementNamer } from './statement-name';
import { userStatements } from './statements';
import { createUserRows } from './user-rows';
import { createPostgresUserStore } from './users';

/** Options of {@link createPostgresStore}: a pool you own, or a connection string for a pool the store owns. */
export type PostgresStoreOptions = (
  | {
      /** Your `pg.Pool`; the store never ends it. */
      pool: pg.Pool;
      connectionString?: undefined;
      poolConfig?: undefined;
    }
  | {
      /** The store creates (and `close()` ends) its own pool. */
      connectionString: string;
      /** Extra `pg.PoolConfig` for that pool (size, timeouts, ssl). */
      poolConfig?: Omit<pg.PoolConfig, 'connectionString'>;
      pool?: undefined;
    }
) & {
  /** Schema holding the tables (run {@link migrate} with the same one). Default `jit_provision`. */
  schema?: string;
  /**
   * Default true: hot statements are named (prepared once per connection). Set false where a server
   * session is not tied to one client connection, so a statement prepared "on another connection" may
   * already exist or be missing: PgBouncer in transaction mode before 1.21, or PGlite's socket server.
   */
  preparedStatements?: boolean;
  /**
   * The change feed's listener (`store.changes`, which every provisioner with a user cache follows): one
   * dedicated connection per store, opened with the first subscriber. It needs a session connection: behind
   * PgBouncer in transaction mode, set `listen.connectionString` to the server itself (or a session-mode
   * pool). `false` leaves `changes` out: user caches then serve a changed user for up to their TTL.
   * Connects where the pool does by default (the pool's own options, or `connectionString` + `poolConfig`).
   */
  listen?: ListenOptions | false;
};

/** The Postgres {@link Store}, with its invitation storage and a `close()` for a pool it created. */
export interface PostgresStore extends Store {
  readonly invitations: InvitationStore;
  /** Durable outbox: `user.provisioned` events written by the same statement as their user row. */
  readonly outbox: OutboxStore;
  /** Reservations for createUser mode, leased on the database clock. */
  readonly reservations: ReservationStore;
  /** Lifecycle and listing: each change one statement, with its outbox event when asked for. */
  readonly users: UserLifecycleStore;
  /** Back-channel logout: logout-token jtis (first wins in every process) and revoked sessions, NOTIFYed on `changes`' channel. */
  readonly logout: LogoutStore;
  /**
   * SCIM users and groups (`@jit-provision/scim`): the resources as written beside the user rows, filters as
   * parameterised SQL, and creates and first-login binds exactly once across processes (migration 8).
   */
  readonly scim: ScimStore;
  /**
   * The user with this `oidc:{prefix}:{subject}` username (unique per store), or null. For admin tools such
   * as the CLI, which accept a username wherever they take a user; the request path never reads by username.
   */
  getUserByUsername(username: string): Promise<UserRecord | null>;
  /** A login's lookup and create-if-absent (with its outbox event) in one statement: see `Store.lookupOrCreate`. */
  lookupOrCreate(input: NewUser): Promise<{ user: UserRecord; created: boolean }>;
  /** The pool queries run on. */
  readonly pool: pg.Pool;
  /**
   * Is the schema migrated to the version this store needs? `ok: false` names `jit-provision-migrate` when it
   * is missing or behind, or says the database is unreachable. Run by `provisioner.check()`.
   */
  check(): Promise<StoreCheckResult>;
  /** The (unquoted) schema the tables live in. */
  readonly schema: string;
  /**
   * Changes to users, pushed by a trigger on `users` through LISTEN/NOTIFY: whoever made them (any process,
   * the CLI, hand-written SQL). Absent with `listen: false`.
   */
  readonly changes?: UserChangeFeed;
  /**
   * End the change listener's connection, and the pool if the store created it from `connectionString`
   * (a pool you passed in is left open).
   */
  close(): Promise<void>;
}

/** Where the pool connects: the pool's own options, or `connectionString` + `poolConfig`. */
const poolTarget = (options: PostgresStoreOptions): pg.PoolConfig =>
  options.pool !== undefined
    ? options.pool.options
    : { ...options.poolConfig, connectionString: options.connectionString };

/** Where the change feed's listener connects: `listen.connectionString`, else wherever the pool does. */
function listenConfig(options: PostgresStoreOptions): pg.ClientConfig {
  if (options.listen !== false && options.listen?.connectionString !== undefined)
    return { connectionString: options.listen.connectionString };
  return poolTarget(options);
}

/**
 * Cloudflare Workers: a socket belongs to the request that opened it, and a pooled connection reused by a later
 * request fails or hangs that request. There the pool it makes uses each connection once (`maxUses: 1`) unless
 * `poolConfig` says otherwise; reach the database through Hyperdrive or a pooler, where connecting is cheap.
 */
const onWorkers = () =>
  (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent === 'Cloudflare-Workers';

/**
 * A {@link Store} on PostgreSQL via node-postgres: correct when many processes race on first logins.
 * Run {@link migrate} once (at deploy or start-up) before using it.
 *
 * - `lookup`: one indexed SELECT on `(issuer, subject)`, a prepared statement.
 * - `upsert`: `INSERT … ON CONFLICT DO NOTHING RETURNING`, one round trip for a new user; only on conflict a
 *   SELECT follows (and an UPDATE when email/name changed). Exactly one racing caller gets `created: true`.
 * - `lookupOrCreate`: a login's lookup and insert (with its outbox event) in one statement, one round trip
 *   for an existing user and for a new one; a SELECT follows only when a racer committed the row meanwhile.
 * - `reserve`/`confirm`/`release`: leases on the database clock, so every process agrees on expiry.
 * - `users`: lifecycle changes (status, role, revocation, delete) in one statement each, with their outbox
 *   event when asked; `list` pages by (created_at, id) keyset on an index, never OFFSET.
 * - `outbox`: with `NewUser.emitEvent` (`hookDelivery: 'outbox'`), `upsert` and `confirm` write the user's
 *   `user.provisioned` event in the same statement; dispatchers claim events with `FOR UPDATE SKIP LOCKED`.
 *
 * Connection failures surface as `StoreUnavailableError` (HTTP 503); reads retry once on a fresh connection.
 * A connection target with libpq's failover syntax (several hosts, `target_session_attrs`), which
 * node-postgres cannot follow, is a `ConfigurationError`: give it one endpoint that follows the primary.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createProvisioner } from '@jit-provision/core';
 * import { createPostgresStore, migrate } from '@jit-provision/store-postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool);
 * const provisioner = createProvisioner({ store: createPostgresStore({ pool }), issuers });
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  // Before any pool exists: a failover target would become a pool that answers 503 for ever.
  if (options.pool === undefined) {
    assertOneEndpoint('connectionString', { connectionString: options.connectionString });
    assertConfigOneEndpoint('poolConfig', options.poolConfig);
  } else {
    assertConfigOneEndpoint('the pool', options.pool.options);
  }
  if (options.listen !== false) {
    assertOneEndpoint('listen.connectionString', { connectionString: options.listen?.connectionString });
  }
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({
      ...(onWorkers() ? { maxUses: 1 } : {}),
      ...options.poolConfig,
      connectionString: options.connectionString,
    });
  const db = createExecutor(pool);
  const named = statementNamer(options.preparedStatements ?? true, schema);
  const sql = userStatements(schema, named);
  const userRows = createUserRows(db, schema, sql);
  const feed =
    options.listen === false
      ? undefined
      : createPostgresChangeFeed(
          listenConfig(options),
          schema,
          // The heartbeat's NOTIFY comes from another session than the listener's, connected where the
          // app's queries go.
          poolTarget(options),
          options.listen,
        );

  return {
    pool,
    schema,
    invitations: createPostgresInvitationStore(db, schema),
    users: createPostgresUserStore(db, schema, named, userRows.getUser),
    outbox: createPostgresOutboxStore(db, schema),
    logout: createPostgresLogoutStore(db, schema, named),
    scim: createPostgresScimStore(db, schema, userRows, named),

    // The per-request path: one promise chain, no extra async layers.
    lookup: (key) =>
      db.rows<UserRow>({ ...sql.lookup, values: [key.issuer, key.subject] }, { retry: true }).then(
        (rows) => (rows[0] === undefined ? null : toUser(rows[0])),
        (error: unknown) => {
          throw toStoreError(error);
        },
      ),

    upsert: userRows.upsert,
    lookupOrCreate: userRows.lookupOrCreate,
    sync: userRows.sync,
    getUser: userRows.getUser,
    getUserByUsername: userRows.getUserByUsername,
    setRole: userRows.setRole,
    reservations: createPostgresReservations(db, schema, named),
    check: () => checkSchema(db, schema),
    ...(feed === undefined ? {} : { changes: { subscribe: feed.subscribe } }),

    async close() {
      await feed?.close();
      if (ownsPool && !pool.ended) await pool.end();
    },
  };
}
