import { runMigrateCommand } from '@jit-provision/store-postgres';
import { examples, type Register } from '../app';
import { CliError } from '../errors';

/** A store that migrates its own tables (store-kysely: `store.migrate()` on the app's Kysely instance). */
interface SelfMigrating {
  migrate(): Promise<string[]>;
}
const selfMigrating = (store: unknown): store is SelfMigrating =>
  typeof (store as Partial<SelfMigrating> | null)?.migrate === 'function';

/**
 * `migrate [--schema s]`: with a config file whose store migrates itself (store-kysely), that store's
 * `migrate()` for its dialect; otherwise store-postgres's own migrate command at `DATABASE_URL` (its
 * `jit-provision-migrate` bin is an alias).
 */
export const registerMigrate: Register = (program, app) => {
  program
    .command('migrate')
    .description(
      "create or update the tables: the config file store's own migrations (store-kysely), else the Postgres tables at DATABASE_URL (schema: --schema, JIT_PROVISION_SCHEMA, or jit_provision)",
    )
    .option('--schema <name>', 'schema to migrate')
    .addHelpText('after', examples('DATABASE_URL=postgres://app@db/app jit-provision migrate --schema auth'))
    .action(async (options: { schema?: string }) => {
      if (options.schema === undefined) {
        const context = app.context();
        // No config file (env mode, or DATABASE_URL missing): the Postgres command below says what it needs.
        const source = await context.source().catch((error: unknown) => {
          if (error instanceof Error && error.message.includes('DATABASE_URL')) return 'env';
          throw error;
        });
        const store = source === 'env' ? undefined : await context.store().catch(() => undefined);
        if (selfMigrating(store)) {
          const applied = await store.migrate();
          app.io.stdout(
            applied.length === 0
              ? `${source}: tables up to date\n`
              : `${source}: applied ${applied.join(', ')}\n`,
          );
          return;
        }
      }
      const args = options.schema === undefined ? [] : ['--schema', options.schema];
      const code = await runMigrateCommand(
        args,
        {
          env: app.io.env,
          out: (line) => app.io.stdout(`${line}\n`),
          err: (line) => app.io.stderr(`${line}\n`),
        },
        'jit-provision migrate',
      );
      // runMigrateCommand has already said why; the exit code is all that is left to pass on.
      if (code !== 0) throw new CliError('reported', '', code === 2 ? 2 : 1);
    });
};
