import { type Kysely, sql } from 'kysely';
import { type Migration as KyselyMigration, Migrator } from 'kysely/migration';
import { type AnyKysely, DEFAULT_PREFIX, type DialectName, inferDialect, tablesOf } from './dialect';
import { isRetryable, isUniqueViolation } from './errors';
import { migrationSets } from './schema';
import type { Migration } from './schema-0002';

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Default: inferred from the instance's adapter. */
  dialect?: DialectName;
  /** Prepended to every table name (and the migrations tables). Default `jit_provision_`. */
  tablePrefix?: string;
}

const done = async (db: Kysely<unknown>, query: string | undefined) =>
  query !== undefined && (await sql.raw(query).execute(db)).rows.length > 0;

/** Run a migration's statements, one per query (mysql2 refuses several), skipping what is already done. */
async function apply(db: Kysely<unknown>, migration: Migration): Promise<void> {
  if (await done(db, migration.unless)) return;
  for (const statement of migration.statements) {
    if (typeof statement === 'string') await sql.raw(statement).execute(db);
    else if (!(await done(db, statement.unless))) await sql.raw(statement.sql).execute(db);
  }
}

/** The migrations a `Migrator` runs, for one dialect family and prefix. */
export function migrationsFor(dialect: DialectName, tablePrefix: string): Record<string, KyselyMigration> {
  const out: Record<string, KyselyMigration> = {};
  const names = migrationSets(dialect, tablesOf(tablePrefix)).map((m) => m.name);
  names.forEach((name, index) => {
    out[name] = {
      async up(db) {
        // MariaDB and MySQL 8 name their binary NO PAD collations differently.
        const version =
          dialect === 'mysql'
            ? ((await sql<{ v: string }>`SELECT VERSION() AS v`.execute(db)).rows[0]?.v ?? '')
            : '';
        const sets = migrationSets(dialect, tablesOf(tablePrefix), { mariadb: /mariadb/i.test(version) });
        const migration = sets[index];
        if (migration === undefined) return;
        // SQLite gives the Migrator no lock: each migration is one write transaction, which a process that
        // lost the race runs after the winner's, finding the work done (`unless`).
        if (dialect !== 'sqlite') return apply(db, migration);
        await sql.raw('BEGIN IMMEDIATE').execute(db);
        try {
          await apply(db, migration);
          await sql.raw('COMMIT').execute(db);
        } catch (error) {
          await sql
            .raw('ROLLBACK')
            .execute(db)
            .catch(() => {});
          throw error;
        }
      },
    };
  });
  return out;
}

/** The newest migration's name: what {@link migrate} brings a database to. */
export const latestMigration = (dialect: DialectName, tablePrefix = DEFAULT_PREFIX): string =>
  Object.keys(migrationsFor(dialect, tablePrefix)).sort().at(-1) as string;

/**
 * Create or upgrade the store's tables with Kysely's `Migrator`, returning the names applied by this call
 * (empty when up to date). Safe from several processes at once: Postgres takes a transaction-scoped
 * advisory lock, MySQL/MariaDB a named lock (`GET_LOCK`) on the migration connection, and SQLite's write
 * lock serialises the migration transactions (a process that loses the race retries and finds nothing to
 * do). MySQL runs DDL outside transactions, so an interrupted run is completed by the next one (every
 * statement is `IF NOT EXISTS` or re-creates a trigger).
 *
 * @example
 * ```ts
 * import { Kysely, MysqlDialect } from 'kysely';
 * import { createPool } from 'mysql2';
 * import { migrate } from '@jit-provision/store-kysely';
 *
 * const db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool: createPool(process.env.MYSQL_URL ?? '') }) });
 * await migrate(db);
 * ```
 */
export async function migrate(db: AnyKysely, options: MigrateOptions = {}): Promise<string[]> {
  const dialect = inferDialect(db, options.dialect);
  const prefix = options.tablePrefix ?? DEFAULT_PREFIX;
  const tables = tablesOf(prefix);
  const migrations = migrationsFor(dialect, prefix);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: tables.migrations,
    migrationLockTableName: tables.migrationLock,
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (error === undefined)
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // SQLite has no lock for the Migrator to take: a process whose migration transaction lost to another
    // one fails (busy, or the migration's row already recorded), rolls back whole, and runs again to find
    // nothing left to do.
    const lost = isRetryable(error) || (dialect === 'sqlite' && isUniqueViolation(error));
    if (!lost || attempt >= 20) throw error;
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
  }
}
