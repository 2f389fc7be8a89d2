import type {
  InvitationStore,
  LogoutStore,
  OutboxStore,
  ReservationStore,
  ScimStore,
  Store,
  StoreCheckResult,
  StoreKey,
  UserChangeFeed,
  UserLifecycleStore,
  UserRecord,
} from '@jit-provision/core';
import { CompiledQuery, sql } from 'kysely';
import { type ChangeFeedOptions, createPolledFeed } from './changes';
import { createContext, identityIs, retrying, rows } from './context';
import { type AnyKysely, DEFAULT_PREFIX, type DialectName, inferDialect, sqlFor, tablesOf } from './dialect';
import { guard, toStoreError } from './errors';
import { createInvitations } from './invitations';
import { createLifecycle, setRole } from './lifecycle';
import { createLogout } from './logout';
import { latestMigration, migrate } from './migrate';
import { createOutbox } from './outbox';
import { createReservations } from './reservations';
import { toUser, type UserRow } from './rows';
import { createScimStore } from './scim';
import { selectUser, syncRow, upsertUser, userById } from './users';

/** Options of {@link createKyselyStore}. */
export interface KyselyStoreOptions {
  /** Your Kysely instance (MysqlDialect, SqliteDialect or PostgresDialect); the store never destroys it. */
  db: AnyKysely;
  /** Default: inferred from the instance's adapter; needed only for a third-party dialect. */
  dialect?: DialectName;
  /** Prepended to every table name; pass the same one to {@link migrate}. Default `jit_provision_`. */
  tablePrefix?: string;
  /**
   * The polled change feed (`store.changes`): one reader per store reads the change log every `pollMs`
   * (default 500 ms). `false` leaves `changes` out: user caches then serve a changed user up to their TTL.
   */
  changes?: ChangeFeedOptions | false;
}

/** The Kysely {@link Store}: every optional part, and `close()` for its change-feed reader. */
export interface KyselyStore extends Store {
  readonly invitations: InvitationStore;
  readonly logout: LogoutStore;
  readonly outbox: OutboxStore;
  readonly reservations: ReservationStore;
  readonly scim: ScimStore;
  readonly users: UserLifecycleStore;
  readonly changes?: UserChangeFeed;
  /** The engine family the store speaks. */
  readonly dialect: DialectName;
  /** The prefix of its table names. */
  readonly tablePrefix: string;
  /** Apply pending migrations on the store's own instance (what `jit-provision migrate` runs). */
  migrate(): Promise<string[]>;
  /** The user with this `oidc:{prefix}:{subject}` username, or null (for admin tools such as the CLI). */
  getUserByUsername(username: string): Promise<UserRecord | null>;
  check(): Promise<StoreCheckResult>;
  /** Stop the change-feed reader. The Kysely instance is yours: the store never destroys it. */
  close(): Promise<void>;
}

/**
 * A {@link Store} on MySQL/MariaDB, SQLite or Postgres through the app's own Kysely instance. Run
 * {@link migrate} with the same `tablePrefix` first.
 *
 * - `lookup`: one indexed SELECT (MySQL: on a SHA-256 of the identity, see the README).
 * - `upsert`: one INSERT that ignores a duplicate key, then the row; exactly one racer creates.
 * - `users`, `reservations`, `invitations`: each change one transaction with its outbox event.
 * - `outbox`: claims with `SKIP LOCKED` (MySQL/MariaDB, Postgres) or one UPDATE (SQLite).
 * - `logout`: a logout token's jti claimed once among racers; revoked sessions reach the change feed.
 * - `scim`: SCIM users (the same rows as logins, joined on `externalId`), groups, filters compiled to SQL.
 * - `changes`: a change log written by triggers (and `revokeSid`), polled every `pollMs`.
 *
 * @example
 * ```ts
 * import { Kysely, SqliteDialect } from 'kysely';
 * import Database from 'better-sqlite3';
 * import { createKyselyStore, migrate } from '@jit-provision/store-kysely';
 *
 * const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database('app.db') }) });
 * await migrate(db);
 * const store = createKyselyStore({ db, changes: { pollMs: 500 } });
 * ```
 */
export function createKyselyStore(options: KyselyStoreOptions): KyselyStore {
  const dialect = inferDialect(options.db, options.dialect);
  const prefix = options.tablePrefix ?? DEFAULT_PREFIX;
  const ctx = createContext(options.db, sqlFor(dialect), tablesOf(prefix));
  const { d, db } = ctx;
  // Compiled once: the per-request read skips Kysely's query compilation (its parameters are the key's,
  // twice on MySQL where the hashed key and the columns are both compared).
  const lookupSql = selectUser(ctx, identityIs(ctx, '', '')).compile(db).sql;
  const lookupParams =
    dialect === 'mysql'
      ? (k: StoreKey) => [k.issuer, k.subject, k.issuer, k.subject]
      : (k: StoreKey) => [k.issuer, k.subject];
  const feed = options.changes === false ? undefined : createPolledFeed(ctx, options.changes);

  return {
    dialect,
    tablePrefix: prefix,
    migrate: () => migrate(options.db, { dialect, tablePrefix: prefix }),
    invitations: createInvitations(ctx),
    logout: createLogout(ctx),
    outbox: createOutbox(ctx),
    reservations: createReservations(ctx),
    scim: createScimStore(ctx),
    users: createLifecycle(ctx),
    // The per-request path: one promise chain, no extra async layers.
    lookup: (key) =>
      db.executeQuery<UserRow>(CompiledQuery.raw(lookupSql, lookupParams(key))).then(
        (result) => (result.rows[0] === undefined ? null : toUser(d, result.rows[0])),
        (error: unknown) => {
          throw toStoreError(error);
        },
      ),
    upsert: (input) => guard(() => retrying(() => upsertUser(ctx, input))),
    sync: (userId, patch) => guard(() => syncRow(ctx, db, userId, patch)),
    getUser: (userId) =>
      guard(async () => {
        const row = await userById(ctx, db, userId);
        return row === undefined ? null : toUser(d, row);
      }),
    getUserByUsername: (username) =>
      guard(async () => {
        const row = (await rows(db, selectUser(ctx, sql`username = ${username}`)))[0];
        return row === undefined ? null : toUser(d, row);
      }),
    setRole: (userId, role, source = 'local') =>
      guard(async () => (await setRole(ctx, userId, role, { source })).user),
    check: () => checkSchema(ctx.db, ctx.T.migrations, dialect, prefix),
    ...(feed === undefined ? {} : { changes: feed.feed }),
    close: async () => {
      await feed?.close();
    },
  };
}

async function checkSchema(
  db: AnyKysely,
  table: ReturnType<typeof sql.raw>,
  dialect: DialectName,
  prefix: string,
): Promise<StoreCheckResult> {
  const latest = latestMigration(dialect, prefix);
  try {
    const found = await rows<{ name: string }>(db, sql`SELECT name FROM ${table} ORDER BY name`);
    const names = found.map((r) => r.name);
    if (!names.includes(latest))
      return { ok: false, detail: `tables "${prefix}*" not at migration ${latest}: run migrate()` };
    return { ok: true, detail: `tables "${prefix}*" (${dialect}) at migration ${latest} (current)` };
  } catch (error) {
    return { ok: false, detail: `tables "${prefix}*" not readable (run migrate()): ${String(error)}` };
  }
}
