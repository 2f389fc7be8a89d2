import { randomUUID } from 'node:crypto';
import {
  type InvitationStore,
  type NewUser,
  type OutboxStore,
  type Reservation,
  ReservationConflictError,
  type ReservationStore,
  type Store,
  type StoreCheckResult,
  type StoreKey,
  StoreUnavailableError,
  type UserChangeFeed,
  type UserLifecycleStore,
  UserNotFoundError,
  type UserPatch,
  type UserRecord,
} from '@jit-provision/core';
import { profileChanges } from '@jit-provision/core/adapter';
import pg from 'pg';
import { createPostgresChangeFeed, type ListenOptions } from './changes';
import { createExecutor } from './executor';
import { createPostgresInvitationStore } from './invitations';
import { MIGRATIONS } from './migrations';
import { createPostgresOutboxStore, eventIdentity, outboxInsertCte } from './outbox';
import { guard, sqlState, toStoreError, unavailableReason } from './pg-errors';
import { toUser, USER_COLUMNS, type UserRow } from './rows';
import { DEFAULT_SCHEMA, quoteSchema } from './schema-name';
import { statementName } from './statement-name';
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
  /**
   * The user with this `oidc:{prefix}:{subject}` username (unique per store), or null. For admin tools such
   * as the CLI, which accept a username wherever they take a user; the request path never reads by username.
   */
  getUserByUsername(username: string): Promise<UserRecord | null>;
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

/** Parameters $1–$8 of the insert and confirm statements, in `users` column order. */
const userValues = (id: string, input: NewUser) => [
  id,
  input.issuer,
  input.subject,
  input.username,
  input.email ?? null,
  input.name ?? null,
  input.role,
  input.tenantId ?? null,
];

/**
 * A {@link Store} on PostgreSQL via node-postgres: correct when many processes race on first logins.
 * Run {@link migrate} once (at deploy or start-up) before using it.
 *
 * - `lookup`: one indexed SELECT on `(issuer, subject)`, a prepared statement.
 * - `upsert`: `INSERT … ON CONFLICT DO NOTHING RETURNING`, one round trip for a new user; only on conflict a
 *   SELECT follows (and an UPDATE when email/name changed). Exactly one racing caller gets `created: true`.
 * - `reserve`/`confirm`/`release`: leases on the database clock, so every process agrees on expiry.
 * - `users`: lifecycle changes (status, role, revocation, delete) in one statement each, with their outbox
 *   event when asked; `list` pages by (created_at, id) keyset on an index, never OFFSET.
 * - `outbox`: with `NewUser.emitEvent` (`hookDelivery: 'outbox'`), `upsert` and `confirm` write the user's
 *   `user.provisioned` event in the same statement; dispatchers claim events with `FOR UPDATE SKIP LOCKED`.
 *
 * Connection failures surface as `StoreUnavailableError` (HTTP 503); reads retry once on a fresh connection.
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
  const s = quoteSchema(schema);
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ?? new pg.Pool({ ...options.poolConfig, connectionString: options.connectionString });
  const db = createExecutor(pool);
  const prepared = options.preparedStatements ?? true;
  const feed =
    options.listen === false
      ? undefined
      : createPostgresChangeFeed(
          options.listen?.connectionString !== undefined
            ? { connectionString: options.listen.connectionString }
            : options.pool !== undefined
              ? options.pool.options
              : { ...options.poolConfig, connectionString: options.connectionString },
          schema,
          options.listen,
        );
  const named = (operation: string): { name?: string } =>
    prepared ? { name: statementName(operation, schema) } : {};

  const sql = {
    lookup: {
      ...named('lookup'),
      text: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE issuer = $1 AND subject = $2`,
    },
    getUser: { ...named('get_user'), text: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE id = $1` },
    // No conflict target: every unique index (identity, username, id) arbitrates. With a target, a racer
    // that loses on (issuer, subject) can still fail on the username index it reached first.
    insert: {
      ...named('insert'),
      text: `INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role, tenant_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT DO NOTHING
             RETURNING ${USER_COLUMNS}`,
    },
    // The same insert, plus its outbox event in the same statement: the event exists iff the row was created.
    insertWithEvent: {
      ...named('insert_event'),
      text: `WITH inserted AS (
               INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role, tenant_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT DO NOTHING
               RETURNING ${USER_COLUMNS}
             ), ${outboxInsertCte(schema, 'inserted', 9)}
             SELECT ${USER_COLUMNS} FROM inserted`,
    },
    confirm: {
      ...named('confirm'),
      text: `WITH released AS (
               DELETE FROM ${s}.reservations WHERE issuer = $2 AND subject = $3 AND token = $9 RETURNING 1
             )
             INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role, tenant_id)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM released
             RETURNING ${USER_COLUMNS}`,
    },
    confirmWithEvent: {
      ...named('confirm_event'),
      text: `WITH released AS (
               DELETE FROM ${s}.reservations WHERE issuer = $2 AND subject = $3 AND token = $9 RETURNING 1
             ), inserted AS (
               INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role, tenant_id)
               SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM released
               RETURNING ${USER_COLUMNS}
             ), ${outboxInsertCte(schema, 'inserted', 10)}
             SELECT ${USER_COLUMNS} FROM inserted`,
    },
    sync: {
      ...named('sync'),
      text: `UPDATE ${s}.users SET
               email = CASE WHEN $2::boolean THEN $3::text ELSE email END,
               name = CASE WHEN $4::boolean THEN $5::text ELSE name END,
               updated_at = CASE
                 WHEN ($2::boolean AND $3::text IS DISTINCT FROM email) OR ($4::boolean AND $5::text IS DISTINCT FROM name)
                 THEN now() ELSE updated_at END
             WHERE id = $1
             RETURNING ${USER_COLUMNS}`,
    },
  } as const;

  const lookupRow = async (key: StoreKey) =>
    (await db.rows<UserRow>({ ...sql.lookup, values: [key.issuer, key.subject] }, { retry: true }))[0];

  async function syncRow(userId: string, patch: UserPatch): Promise<UserRecord> {
    const row = (
      await db.rows<UserRow>({
        ...sql.sync,
        values: [
          userId,
          patch.email !== undefined,
          patch.email ?? null,
          patch.name !== undefined,
          patch.name ?? null,
        ],
      })
    )[0];
    if (row === undefined) throw new UserNotFoundError();
    return toUser(row);
  }

  const getUser = (userId: string) =>
    guard(async () => {
      const row = (await db.rows<UserRow>({ ...sql.getUser, values: [userId] }, { retry: true }))[0];
      return row === undefined ? null : toUser(row);
    });

  return {
    pool,
    schema,
    invitations: createPostgresInvitationStore(db, schema),
    users: createPostgresUserStore(db, schema, named, getUser),
    outbox: createPostgresOutboxStore(db, schema),

    // The per-request path: one promise chain, no extra async layers.
    lookup: (key) =>
      db.rows<UserRow>({ ...sql.lookup, values: [key.issuer, key.subject] }, { retry: true }).then(
        (rows) => (rows[0] === undefined ? null : toUser(rows[0])),
        (error: unknown) => {
          throw toStoreError(error);
        },
      ),

    upsert: (input: NewUser) =>
      guard(async () => {
        const identity = eventIdentity(input);
        // Loops only if a conflicting row is gone by the time we read it, which nothing here causes.
        for (let attempt = 0; attempt < 3; attempt++) {
          const inserted = await db.rows<UserRow>({
            ...(identity === null ? sql.insert : sql.insertWithEvent),
            values: [...userValues(randomUUID(), input), ...(identity ?? [])],
          });
          if (inserted[0] !== undefined) return { user: toUser(inserted[0]), created: true };

          // A new statement, so a new snapshot: it sees the row of whichever racer won.
          const existing = await lookupRow(input);
          if (existing !== undefined) {
            const patch = profileChanges(existing, input);
            const user = patch === undefined ? toUser(existing) : await syncRow(existing.id, patch);
            return { user, created: false };
          }

          const owner = await db.rows({
            text: `SELECT 1 FROM ${s}.users WHERE username = $1`,
            values: [input.username],
          });
          if (owner.length > 0) {
            throw new ReservationConflictError('the username belongs to another identity');
          }
        }
        throw new StoreUnavailableError('upsert did not settle after 3 attempts');
      }),

    sync: (userId, patch) => guard(() => syncRow(userId, patch)),

    getUser,

    getUserByUsername: (username) =>
      guard(async () => {
        const row = (
          await db.rows<UserRow>(
            { text: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE username = $1`, values: [username] },
            { retry: true },
          )
        )[0];
        return row === undefined ? null : toUser(row);
      }),

    setRole: (userId, role) =>
      guard(async () => {
        const row = (
          await db.rows<UserRow>({
            text: `UPDATE ${s}.users SET role = $2,
                     updated_at = CASE WHEN role IS DISTINCT FROM $2 THEN now() ELSE updated_at END
                   WHERE id = $1
                   RETURNING ${USER_COLUMNS}`,
            values: [userId, role],
          })
        )[0];
        if (row === undefined) throw new UserNotFoundError();
        return toUser(row);
      }),

    reservations: {
      reserve: (key, { leaseMs }) =>
        guard(async () => {
          // Insert, or take over a lease that ran out (its holder crashed); a live one is left alone.
          // The database clock decides expiry, so processes with skewed clocks still agree.
          const taken = await db.rows<{ token: string; expires_at: Date }>({
            ...named('reserve'),
            text: `INSERT INTO ${s}.reservations AS r (issuer, subject, token, expires_at)
                 VALUES ($1, $2, $3, now() + $4::double precision * interval '1 millisecond')
                 ON CONFLICT (issuer, subject) DO UPDATE
                   SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
                   WHERE r.expires_at <= now()
                 RETURNING token, expires_at`,
            values: [key.issuer, key.subject, randomUUID(), leaseMs],
          });
          const row = taken[0];
          if (row !== undefined) return { token: row.token, expiresAt: row.expires_at } satisfies Reservation;
          const held = await db.rows<{ expires_at: Date }>({
            text: `SELECT expires_at FROM ${s}.reservations WHERE issuer = $1 AND subject = $2`,
            values: [key.issuer, key.subject],
          });
          throw new ReservationConflictError(undefined, held[0]?.expires_at);
        }),

      confirm: (input, reservation, userId) =>
        guard(async () => {
          // One statement, so one transaction: the user row exists iff our reservation was deleted.
          const identity = eventIdentity(input);
          let rows: UserRow[];
          try {
            rows = await db.rows<UserRow>({
              ...(identity === null ? sql.confirm : sql.confirmWithEvent),
              values: [...userValues(userId, input), reservation.token, ...(identity ?? [])],
            });
          } catch (error) {
            if (sqlState(error) === '23505') {
              throw new ReservationConflictError('a user with this identity, id or username already exists');
            }
            throw error;
          }
          const row = rows[0];
          if (row === undefined) {
            throw new ReservationConflictError('the reservation is stale: another caller took it over');
          }
          return toUser(row);
        }),

      release: (key, reservation) =>
        guard(async () => {
          await db.rows({
            ...named('release'),
            text: `DELETE FROM ${s}.reservations WHERE issuer = $1 AND subject = $2 AND token = $3`,
            values: [key.issuer, key.subject, reservation.token],
          });
        }),
    },

    async check() {
      const needed = Math.max(...MIGRATIONS.map((m) => m.version));
      const migrateHint = `run \`jit-provision-migrate --schema ${schema}\` (DATABASE_URL names the database) or call migrate()`;
      try {
        const rows = await db.rows<{ version: number | null }>(
          { text: `SELECT max(version) AS version FROM ${s}.migrations` },
          { retry: true },
        );
        const version = rows[0]?.version ?? 0;
        if (version < needed) {
          return {
            ok: false,
            detail: `schema "${schema}" is at version ${version}, this store needs ${needed}: ${migrateHint}`,
          };
        }
        const newer = version > needed ? `, newer than this store's ${needed}` : ' (current)';
        return { ok: true, detail: `schema "${schema}" at version ${version}${newer}` };
      } catch (error) {
        const reason = unavailableReason(error);
        if (reason === 'schema_not_migrated') {
          return { ok: false, detail: `schema "${schema}" not migrated: ${migrateHint}` };
        }
        const code = sqlState(error) ?? (error instanceof Error ? error.message : String(error));
        return {
          ok: false,
          detail: `the user database is ${reason === 'unreachable' ? 'unreachable' : 'failing'} (${code})`,
        };
      }
    },
    ...(feed === undefined ? {} : { changes: { subscribe: feed.subscribe } }),

    async close() {
      await feed?.close();
      if (ownsPool && !pool.ended) await pool.end();
    },
  };
}
