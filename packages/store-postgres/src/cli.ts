#!/usr/bin/env node
/**
 * `jit-provision-migrate [--schema name]`: apply pending migrations to DATABASE_URL.
 * The schema may also come from JIT_PROVISION_SCHEMA; the default is `jit_provision`.
 */
import { runMigrations } from './migrations';
import { DEFAULT_SCHEMA } from './schema-name';

function schemaArg(argv: readonly string[]): string | undefined {
  const index = argv.findIndex((arg) => arg === '--schema' || arg.startsWith('--schema='));
  if (index === -1) return undefined;
  const arg = argv[index] as string;
  return arg.includes('=') ? arg.slice('--schema='.length) : argv[index + 1];
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: DATABASE_URL=postgres://… jit-provision-migrate [--schema name]\n');
    return 0;
  }
  const url = process.env['DATABASE_URL'];
  if (url === undefined || url === '') {
    process.stderr.write('jit-provision-migrate: set DATABASE_URL\n');
    return 2;
  }
  const schema = schemaArg(argv) ?? process.env['JIT_PROVISION_SCHEMA'] ?? DEFAULT_SCHEMA;
  try {
    const applied = await runMigrations(url, { schema });
    process.stdout.write(
      applied.length === 0
        ? `jit-provision: schema "${schema}" is up to date\n`
        : `jit-provision: applied migration(s) ${applied.join(', ')} to schema "${schema}"\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(
      `jit-provision-migrate: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
