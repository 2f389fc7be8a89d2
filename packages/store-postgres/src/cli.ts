#!/usr/bin/env node
/**
 * `jit-provision-migrate [--schema name]`: apply pending migrations to DATABASE_URL.
 * The schema may also come from JIT_PROVISION_SCHEMA; the default is `jit_provision`.
 */
import { runMigrateCommand } from './migrate-command';

runMigrateCommand(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then((code) => {
  // Exit rather than wait for the event loop to drain: pg leaves the socket of a failed handshake open
  // when the server spoke something other than Postgres, and the command would hang on it. An empty write
  // calls back once everything written before it is out.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
});
