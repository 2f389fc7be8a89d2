import { ConfigurationError } from '@jit-provision/core';
import { type Kysely, MysqlAdapter, PostgresAdapter, type RawBuilder, SqliteAdapter, sql } from 'kysely';

/** The SQL families the store speaks; each has its own migration set. */
export type DialectName = 'mysql' | 'sqlite' | 'postgres';

// biome-ignore lint/suspicious/noExplicitAny: the app's Kysely instance has the app's own table types.
export type AnyKysely = Kysely<any>;

/** The dialect of an instance's adapter; a subclass or a copy of Kysely is recognised by its class name. */
export function inferDialect(db: AnyKysely, explicit?: DialectName): DialectName {
  if (explicit !== undefined) {
    if (explicit !== 'mysql' && explicit !== 'sqlite' && explicit !== 'postgres')
      throw new ConfigurationError(`store-kysely: unknown dialect ${JSON.stringify(explicit)}`);
    return explicit;
  }
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  const name = adapter.constructor.name.toLowerCase();
  if (name.includes('mysql') || name.includes('maria')) return 'mysql';
  if (name.includes('sqlite')) return 'sqlite';
  if (name.includes('postgres')) return 'postgres';
  throw new ConfigurationError(
    `store-kysely cannot tell the dialect of ${adapter.constructor.name}: pass dialect: 'mysql' | 'sqlite' | 'postgres'`,
  );
}

/** Table names of one store: `prefix` + the table. */
export interface Tables {
  users: string;
  reservations: string;
  invitations: string;
  outbox: string;
  changes: string;
  logoutJtis: string;
  revokedSessions: string;
  scimUsers: string;
  scimEmails: string;
  scimGroups: string;
  scimMembers: string;
  migrations: string;
  migrationLock: string;
}

export const tablesOf = (prefix: string): Tables => {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,30}$/.test(prefix))
    throw new ConfigurationError(
      `store-kysely: tablePrefix must be a plain SQL identifier prefix, got ${prefix}`,
    );
  return {
    users: `${prefix}users`,
    reservations: `${prefix}reservations`,
    invitations: `${prefix}invitations`,
    outbox: `${prefix}outbox`,
    changes: `${prefix}user_changes`,
    logoutJtis: `${prefix}logout_jtis`,
    revokedSessions: `${prefix}revoked_sessions`,
    scimUsers: `${prefix}scim_users`,
    scimEmails: `${prefix}scim_emails`,
    scimGroups: `${prefix}scim_groups`,
    scimMembers: `${prefix}scim_members`,
    migrations: `${prefix}migrations`,
    migrationLock: `${prefix}migrations_lock`,
  };
};

export const DEFAULT_PREFIX = 'jit_provision_';

const TIME_COLUMNS = new Set([
  'created_at',
  'updated_at',
  'disabled_at',
  'tokens_valid_after',
  'last_seen_at',
  'expires_at',
  'consumed_at',
  'revoked_at',
  'available_at',
  'completed_at',
  'last_modified',
]);

/** What differs between the engines, in one place: the clock, times in and out, quoting. */
export interface Sql {
  name: DialectName;
  /** The database clock. */
  now: RawBuilder<unknown>;
  /** The database clock plus `ms` milliseconds. */
  later(ms: number): RawBuilder<unknown>;
  /** A JS Date as a parameter the engine compares with its time columns. */
  time(date: Date): unknown;
  /** A time column, as the engine returns it, to a Date. */
  readTime(value: unknown): Date;
  /**
   * A select list of `columns` (comma-separated, of table `alias` when given), time columns in a form
   * `readTime` reads exactly.
   */
  select(columns: string, alias?: string): RawBuilder<unknown>;
  /** A quoted identifier. */
  id(name: string): RawBuilder<unknown>;
  /** The case-insensitive literal `LIKE` of `column` against an escaped pattern. */
  ilike(column: string, pattern: string): RawBuilder<unknown>;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: what a MySQL DATETIME(6) compares with. */
const mysqlTime = (d: Date) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;

function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string') return new Date(value);
  if (typeof value === 'number') return new Date(value);
  throw new TypeError(`store-kysely: not a time: ${String(value)}`);
}

export function sqlFor(name: DialectName): Sql {
  const q = name === 'mysql' ? '`' : '"';
  const id = (n: string) => sql.raw(`${q}${n}${q}`);
  // MySQL DATETIME values are read as text: mysql2 would otherwise read them in the pool's time zone.
  const select = (columns: string, alias?: string) =>
    sql.raw(
      columns
        .split(',')
        .map((c) => c.trim())
        .map((c) => {
          const col = alias === undefined ? c : `${alias}.${c}`;
          if (name === 'mysql' && TIME_COLUMNS.has(c))
            return `DATE_FORMAT(${col}, '%Y-%m-%dT%H:%i:%s.%fZ') AS ${c}`;
          return alias === undefined ? c : `${col} AS ${c}`;
        })
        .join(', '),
    );
  switch (name) {
    case 'mysql':
      return {
        name,
        now: sql.raw('UTC_TIMESTAMP(6)'),
        later: (ms) => sql.raw(`TIMESTAMPADD(MICROSECOND, ${Math.round(ms * 1000)}, UTC_TIMESTAMP(6))`),
        time: mysqlTime,
        readTime: toDate,
        select,
        id,
        // Identity columns are binary (case-sensitive); the search is not.
        ilike: (column, pattern) => sql`LOWER(${sql.raw(column)}) LIKE LOWER(${pattern})`,
      };
    case 'sqlite':
      return {
        name,
        now: sql.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`),
        later: (ms) => sql.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+${(ms / 1000).toFixed(3)} seconds')`),
        time: (d) => d.toISOString(),
        readTime: toDate,
        select,
        id,
        ilike: (column, pattern) => sql`LOWER(${sql.raw(column)}) LIKE LOWER(${pattern}) ESCAPE '\\'`,
      };
    case 'postgres':
      return {
        name,
        now: sql.raw('now()'),
        later: (ms) => sql.raw(`now() + ${Number(ms)} * interval '1 millisecond'`),
        time: (d) => d,
        readTime: toDate,
        select,
        id,
        ilike: (column, pattern) => sql`${sql.raw(column)} ILIKE ${pattern}`,
      };
  }
}
