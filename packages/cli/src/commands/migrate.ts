import { runMigrateCommand } from '@jit-provision/store-postgres';
import { examples, type Register } from '../app';
import { CliError } from '../errors';

/** `migrate [--schema s]`: store-postgres's own migrate command (its `jit-provision-migrate` bin is an alias). */
export const registerMigrate: Register = (program, app) => {
  program
    .command('migrate')
    .description(
      'create or update the Postgres tables at DATABASE_URL (schema: --schema, JIT_PROVISION_SCHEMA, or jit_provision)',
    )
    .option('--schema <name>', 'schema to migrate')
    .addHelpText('after', examples('DATABASE_URL=postgres://app@db/app jit-provision migrate --schema auth'))
    .action(async (options: { schema?: string }) => {
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
