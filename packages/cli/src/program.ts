import { Command, CommanderError } from 'commander';
import { type App, examples } from './app';
import { registerInvitations } from './commands/invitations';
import { registerInvite } from './commands/invite';
import { registerMigrate } from './commands/migrate';
import { registerOutbox } from './commands/outbox';
import { registerScim } from './commands/scim';
import { registerStatus } from './commands/status';
import { registerUsers } from './commands/users';
import { type CliContext, type ConfigOptions, createContext } from './config';
import { CliError, describeFailure, type ExitCode } from './errors';
import type { CliIo } from './io';
import { printable } from './output';

/** The whole command tree, writing through `io`; `context()` is ready once an action runs. */
export function buildProgram(io: CliIo): { program: Command; context(): CliContext | undefined } {
  let context: CliContext | undefined;
  const app: App = {
    io,
    context: () => {
      if (context === undefined) throw new Error('no context before an action runs');
      return context;
    },
  };
  const program = new Command('jit-provision')
    .description('operate jit-provision: migrate, status, users, invitations, outbox, scim')
    .option(
      '--config <file>',
      'a config exporting { provisioner, invitations } (default: ./jit-provision.config.{ts,mjs,js}, else env)',
    )
    .option('--secret-file <file>', 'read the invitation secret from this file instead of INVITATION_SECRET')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(add --help for usage and an example)')
    .addHelpText(
      'after',
      `${examples('DATABASE_URL=postgres://… jit-provision status', 'jit-provision invite --csv team.csv --rate 10/s --out results.csv')}
Environment (without a config file): DATABASE_URL, JIT_PROVISION_SCHEMA, INVITATION_SECRET (≥ 32 bytes),
INVITATION_URL (a URL with {token}). Exit codes: 0 ok, 1 operation failed, 2 usage or configuration.\n`,
    )
    .hook('preAction', (_, action) => {
      context = createContext(io, action.optsWithGlobals<ConfigOptions>());
    });
  for (const register of [
    registerMigrate,
    registerStatus,
    registerUsers,
    registerInvite,
    registerInvitations,
    registerOutbox,
    registerScim,
  ]) {
    register(program, app);
  }
  return { program, context: () => context };
}

/**
 * Run the CLI on `argv` (without `node` and the script) and answer the exit code: 0 ok, 1 the operation
 * failed, 2 usage or configuration. `io` is where it reads its environment and writes: `processIo()` for
 * the process's own, or an object of your own (e.g. to capture the output). Never throws and never prints a stack trace: every failure is one line
 * on `io.stderr`.
 *
 * @example
 * ```ts
 * import { processIo, run } from '@jit-provision/cli';
 * process.exitCode = await run(['invitations', 'purge', '--older-than', '30d'], processIo());
 * ```
 */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { program, context } = buildProgram(io);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed the help or the usage error already.
      return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code) ? 0 : 2;
    }
    const { line, exitCode } = describeFailure(error);
    // Messages quote input (a CSV's cells, a ref, a driver's text): printable, never obeyed by the terminal.
    if (!(error instanceof CliError && error.code === 'reported'))
      io.stderr(`jit-provision: ${printable(line)}\n`);
    return exitCode;
  } finally {
    await context()?.close();
  }
}
