import type { Store } from '@jit-provision/core';
import type pg from 'pg';
import { type App, emit, examples, type Register } from '../app';
import { CliError } from '../errors';
import { record, table } from '../output';

interface PostgresParts {
  pool: pg.Pool;
  schema: string;
}

const postgresOf = (store: Store): PostgresParts | undefined => {
  const parts = store as Partial<PostgresParts>;
  return typeof parts.pool?.query === 'function' && typeof parts.schema === 'string'
    ? { pool: parts.pool, schema: parts.schema }
    : undefined;
};

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const counts = (rows: { key: string; n: string }[]) =>
  Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));

/**
 * Counts straight from store-postgres's tables: the Store contract has no counting reads, and a status
 * page must not page through every user to count them. Read-only, one query per figure.
 */
async function postgresStatus({ pool, schema }: PostgresParts) {
  const s = quote(schema);
  const one = async <R extends pg.QueryResultRow>(text: string) => (await pool.query<R>(text)).rows;
  let version: number | null;
  try {
    version =
      (await one<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.migrations`))[0]?.v ?? null;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') {
      throw new CliError(
        'not_migrated',
        `schema "${schema}" has no jit-provision tables: run jit-provision migrate`,
        1,
      );
    }
    throw error;
  }
  // The lifecycle's `status` column arrives with a later migration: count by it only when it exists.
  const hasStatus =
    (
      await pool.query(
        `SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'users' AND column_name = 'status'`,
        [schema],
      )
    ).rows.length > 0;
  const byRole = await one<{ key: string; n: string }>(
    `SELECT role AS key, count(*) AS n FROM ${s}.users GROUP BY role ORDER BY role`,
  );
  const byStatus = hasStatus
    ? counts(
        await one<{ key: string; n: string }>(
          `SELECT status AS key, count(*) AS n FROM ${s}.users GROUP BY status ORDER BY status`,
        ),
      )
    : undefined;
  const invitations = counts(
    await one<{ key: string; n: string }>(
      `SELECT CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN consumed_at IS NOT NULL THEN 'consumed'
                   WHEN expires_at <= now() THEN 'expired' ELSE 'pending' END AS key, count(*) AS n
       FROM ${s}.invitations GROUP BY 1`,
    ),
  );
  const outbox = counts(
    await one<{ key: string; n: string }>(
      `SELECT status AS key, count(*) AS n FROM ${s}.outbox GROUP BY status`,
    ),
  );
  const roles = counts(byRole);
  return {
    schema,
    schemaVersion: version,
    users: {
      total: Object.values(roles).reduce((a, b) => a + b, 0),
      byRole: roles,
      ...(byStatus === undefined ? {} : { byStatus }),
    },
    invitations: { pending: 0, consumed: 0, expired: 0, revoked: 0, ...invitations },
    outbox: { pending: outbox['pending'] ?? 0, failed: outbox['failed'] ?? 0, done: outbox['done'] ?? 0 },
  };
}

/** `status [--json]`: schema version, users by role (and status), invitations and outbox events. */
export const registerStatus: Register = (program, app: App) => {
  program
    .command('status')
    .description(
      'schema version, users by role (and status), invitations by state, pending/failed outbox events',
    )
    .option('--json', 'print JSON')
    .addHelpText('after', examples('jit-provision status', 'jit-provision status --json | jq .outbox.failed'))
    .action(async (options: { json?: boolean }) => {
      const context = app.context();
      const source = await context.source();
      const store = await context.store();
      const postgres = postgresOf(store);
      if (postgres === undefined) {
        throw new CliError('unsupported', 'status reads store-postgres tables; this store is not one', 1);
      }
      const status = { source, ...(await postgresStatus(postgres)) };
      emit(app, options.json, status, () => {
        const roles = Object.entries(status.users.byRole).map(([role, count]) => ({ role, count }));
        const statuses = Object.entries(status.users.byStatus ?? {}).map(([state, count]) => ({
          status: state,
          count,
        }));
        return [
          record({
            config: source,
            schema: status.schema,
            'schema version': status.schemaVersion,
            users: status.users.total,
          }),
          `\nusers by role\n${table(roles, ['role', 'count'])}`,
          ...(status.users.byStatus === undefined
            ? []
            : [`\nusers by status\n${table(statuses, ['status', 'count'])}`]),
          `\ninvitations\n${record(status.invitations)}`,
          `\noutbox events\n${record(status.outbox)}`,
        ].join('');
      });
    });
};
