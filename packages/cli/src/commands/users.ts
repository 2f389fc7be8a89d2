import type { UserRecord } from '@jit-provision/core';
import type { Command } from 'commander';
import { type App, emit, examples, type Register } from '../app';
import { usageError } from '../errors';
import { record } from '../output';
import { resolveUser } from '../refs';

interface RefOptions {
  issuer?: string;
  subject?: string;
  json?: boolean;
}

/** One user, every field it has (lifecycle fields included once the store has them). */
const showUser = (app: App, json: boolean | undefined, user: UserRecord) =>
  emit(app, json, user, () => record(user as unknown as Record<string, unknown>));

/**
 * Add `users <name> [ref]` taking a user by id, username or `--issuer`/`--subject`, resolved before `run`.
 * Every per-user command is one call of this.
 */
function refCommand(
  users: Command,
  app: App,
  spec: { name: string; summary: string; example: string; extraArgs?: string },
  run: (user: UserRecord, options: RefOptions, extra: string[]) => Promise<void>,
): Command {
  return users
    .command(`${spec.name} [ref]${spec.extraArgs === undefined ? '' : ` ${spec.extraArgs}`}`)
    .description(
      `${spec.summary}; <ref> is a user id, a username oidc:{prefix}:{sub}, or --issuer with --subject`,
    )
    .option('--issuer <url>', 'the user’s issuer (with --subject, instead of <ref>)')
    .option('--subject <sub>', 'the user’s subject at that issuer')
    .option('--json', 'print JSON')
    .addHelpText('after', examples(spec.example))
    .action(async (...args: unknown[]) => {
      // commander passes the positionals, then the options, then the command.
      const positionals = args.slice(0, -2) as (string | undefined)[];
      const options = args[args.length - 2] as RefOptions;
      const byKey = options.issuer !== undefined || options.subject !== undefined;
      // With --issuer/--subject there is no <ref>: the first positional is the next argument.
      const given = positionals.filter((p) => p !== undefined);
      if (byKey && given.length > (spec.extraArgs === undefined ? 0 : 1)) {
        throw usageError('give either <ref> or --issuer/--subject, not both');
      }
      const [ref, ...extra] = byKey ? [undefined, ...given] : positionals;
      const user = await resolveUser(app.context(), {
        ref,
        issuer: options.issuer,
        subject: options.subject,
      });
      await run(
        user,
        options,
        extra.filter((p): p is string => p !== undefined),
      );
    });
}

/** `users show|add|set-role` (and, once core has the lifecycle, `list|disable|enable|delete|revoke-sessions`). */
export const registerUsers: Register = (program, app) => {
  const users = program.command('users').description('find, pre-provision and change users');

  refCommand(
    users,
    app,
    { name: 'show', summary: 'show one user', example: 'jit-provision users show oidc:kcl:f81d4fae --json' },
    async (user, options) => showUser(app, options.json, user),
  );

  users
    .command('add')
    .description(
      'create a user before their first login (pre-provision), e.g. an admin; their first login finds this row',
    )
    .requiredOption('--issuer <url>', 'the issuer their tokens will carry (iss)')
    .requiredOption('--subject <sub>', 'their subject at that issuer (sub)')
    .option('--email <email>', 'email (synced from the token at each login anyway)')
    .option('--name <name>', 'display name')
    .option('--role <role>', 'role (default: the provisioner’s defaultRole)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples(
        'jit-provision users add --issuer https://sso.example.com/realms/main --subject f81d4fae --role admin',
      ),
    )
    .action(
      async (options: {
        issuer: string;
        subject: string;
        email?: string;
        name?: string;
        role?: string;
        json?: boolean;
      }) => {
        const provisioner = await app.context().provisioner();
        const user = await provisioner.preProvision({
          issuer: options.issuer,
          subject: options.subject,
          ...(options.email === undefined ? {} : { email: options.email }),
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.role === undefined ? {} : { role: options.role }),
        });
        showUser(app, options.json, user);
      },
    );

  refCommand(
    users,
    app,
    {
      name: 'set-role',
      summary: 'set a user’s role',
      example: 'jit-provision users set-role oidc:kcl:f81d4fae admin',
      extraArgs: '[role]',
    },
    async (user, options, [role]) => {
      if (role === undefined) throw usageError('users set-role needs the new <role>');
      const provisioner = await app.context().provisioner();
      showUser(app, options.json, await provisioner.setRole(user.id, role));
    },
  );
};
