import { parseArgs } from 'node:util';
import { isJitProvisionError } from '@jit-provision/core';
import pg from 'pg';
import { runMigrations } from './migrations';
import { DEFAULT_SCHEMA } from './schema-name';

/** Where {@link runMigrateCommand} reads its configuration and writes its lines. */
export interface MigrateCommandIo {
  /** `DATABASE_URL` (required) and `JIT_PROVISION_SCHEMA` (optional) are read from here. */
  env: Readonly<Record<string, string | undefined>>;
  /** One line of normal output (no trailing newline). */
  out(line: string): void;
  /** One line of error output (no trailing newline). */
  err(line: string): void;
}

const USAGE = 'usage: DATABASE_URL=postgres://… jit-provision-migrate [--schema name]';
// A server that accepts and never answers as Postgres would otherwise hold the command forever.
const CONNECT_TIMEOUT_MS = 10_000;
// Errors of the network, not of what answered: the server is down or unreachable, not the wrong kind.
const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/;

/**
 * The `migrate` command: parse `args`, apply pending migrations to `DATABASE_URL`, report in one line,
 * and return the exit code: 0 done, 1 the migration failed, 2 usage or configuration error. Never throws.
 * It backs the `jit-provision-migrate` bin and is meant for any CLI that offers `migrate [--schema s]`.
 *
 * @example
 * ```ts
 * import { runMigrateCommand } from '@jit-provision/store-postgres';
 *
 * process.exitCode = await runMigrateCommand(process.argv.slice(2), {
 *   env: process.env,
 *   out: (line) => console.log(line),
 *   err: (line) => console.error(line),
 * });
 * ```
 */
export async function runMigrateCommand(
  args: readonly string[],
  io: MigrateCommandIo,
  name = 'jit-provision-migrate',
): Promise<number> {
  let values: { schema?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { schema: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // Node's message can run over several lines and sentences; the first says what is wrong.
    const reason = (error instanceof Error ? error.message : String(error)).split(/\.\s|\n/)[0];
    io.err(`${name}: ${reason} (${USAGE})`);
    return 2;
  }
  if (values.help === true) {
    io.out(USAGE);
    return 0;
  }

  const url = io.env['DATABASE_URL'];
  if (url === undefined || url === '') {
    io.err(`${name}: DATABASE_URL is not set: it must be a postgres:// URL of the database to migrate`);
    return 2;
  }
  // Only the scheme is echoed: the rest of the URL may carry a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'postgres' && scheme !== 'postgresql') {
    io.err(
      `${name}: DATABASE_URL must be a postgres:// URL, not ${scheme === undefined ? 'this value' : `a ${scheme}:// one`}`,
    );
    return 2;
  }

  const schema = values.schema ?? io.env['JIT_PROVISION_SCHEMA'] ?? DEFAULT_SCHEMA;
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  let connected = false;
  pool.on('connect', () => {
    connected = true;
  });
  try {
    const applied = await runMigrations(pool, { schema });
    io.out(
      applied.length === 0
        ? `jit-provision: schema "${schema}" is up to date`
        : `jit-provision: applied migration(s) ${applied.join(', ')} to schema "${schema}"`,
    );
    return 0;
  } catch (error) {
    if (isJitProvisionError(error) && error.code === 'configuration_error') {
      io.err(`${name}: ${error.message}`);
      return 2;
    }
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    const code = (cause as { code?: unknown } | null)?.code;
    // Failing before the handshake completed, with neither a Postgres error nor a network one, means
    // something answered that is not Postgres (an HTTP or Redis server, say); pg's words for that
    // ("Received unexpected copyData message") do not say so.
    const notPostgres =
      !connected && !(cause instanceof pg.DatabaseError) && !NETWORK_CODES.test(String(code));
    io.err(
      notPostgres
        ? `${name}: the server at DATABASE_URL did not answer as PostgreSQL (${reason}); DATABASE_URL must be a postgres:// URL of a PostgreSQL server`
        : `${name}: migrating schema "${schema}" failed: ${reason}`,
    );
    return 1;
  } finally {
    await pool.end().catch(() => {});
  }
}
