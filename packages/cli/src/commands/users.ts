import type { ListUsersQuery, Provisioner, UserRecord, UserStatus } from '@jit-provision/core';
import type { Command } from 'commander';
import { actorOf } from '../actor';
import { type App, emit, examples, type Register } from '../app';
import { parseCount, parseDuration } from '../durations';
import { CliError, usageError } from '../errors';
import { printable, record, table } from '../output';
import { resolveUser } from '../refs';

/** The largest page `listUsers` serves (core caps `limit` there). */
const PAGE = 500;

interface RefOptions {
  issuer?: string;
  subject?: string;
  json?: boolean;
  actor?: string;
  yes?: boolean;
  reason?: string;
  default?: boolean;
}

/** One user, every field it has (lifecycle fields included once the store has them). */
const showUser = (app: App, json: boolean | undefined, user: UserRecord) =>
  emit(app, json, user, () => record(user as unknown as Record<string, unknown>));

interface RefSpec {
  name: string;
  summary: string;
  example: string | string[];
  extraArgs?: string;
  /** Whether it changes the user: then it takes `--actor`, named in the events it emits. */
  changes?: boolean;
  /** More options of this command. */
  options?: (command: Command) => Command;
  /** Usage checks that need no database, run before the user is looked up. */
  check?: (options: RefOptions, extra: string[]) => void;
}

/**
 * Add `users <name> [ref]` taking a user by id, username or `--issuer`/`--subject`, resolved before `run`.
 * Every per-user command is one call of this.
 */
function refCommand(
  users: Command,
  app: App,
  spec: RefSpec,
  run: (user: UserRecord, options: RefOptions, extra: string[]) => Promise<void>,
): Command {
  let command = users
    .command(`${spec.name} [ref]${spec.extraArgs === undefined ? '' : ` ${spec.extraArgs}`}`)
    .description(
      `${spec.summary}; <ref> is a user id, a username oidc:{prefix}:{sub}, or --issuer with --subject`,
    )
    .option('--issuer <url>', 'the user’s issuer (with --subject, instead of <ref>)')
    .option('--subject <sub>', 'the user’s subject at that issuer')
    .option('--json', 'print JSON');
  if (spec.changes === true) {
    command = command.option(
      '--actor <id>',
      'who acts, as the user events record it (default: cli:<os user>)',
    );
  }
  if (spec.options !== undefined) command = spec.options(command);
  return command
    .addHelpText('after', examples(...[spec.example].flat()))
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
      const [ref, ...rest] = byKey ? [undefined, ...given] : positionals;
      const extra = rest.filter((p): p is string => p !== undefined);
      spec.check?.(options, extra);
      const user = await resolveUser(app.context(), {
        ref,
        issuer: options.issuer,
        subject: options.subject,
      });
      await run(user, options, extra);
    });
}

/**
 * Whether `users delete` may go ahead: `--yes`, or a "y" typed at the terminal. Without a terminal and
 * without `--yes` it never asks (a script would hang or delete by accident): a usage error, exit 2.
 */
function checkDeleteConfirmable(app: App, options: RefOptions): void {
  if (options.yes !== true && app.io.ask === undefined) {
    throw usageError('users delete erases the user: pass --yes when standard input is not a terminal');
  }
}

async function confirmDelete(app: App, options: RefOptions, user: UserRecord): Promise<void> {
  if (options.yes === true || app.io.ask === undefined) return;
  const answer = await app.io.ask(
    `Delete ${printable(user.username)} (${user.id})? Their row is erased; their next login creates a new user. [y/N] `,
  );
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new CliError('not_confirmed', `not deleted: ${user.username} is unchanged`, 1);
  }
}

interface ListOptions {
  query?: string;
  role?: string;
  status?: string;
  seenBefore?: string;
  limit?: string;
  json?: boolean;
}

/** Every page `listUsers` answers for `query`, until `limit` users or the last page. */
async function listAll(
  provisioner: Provisioner,
  query: ListUsersQuery,
  limit: number,
): Promise<{ users: UserRecord[]; more: boolean }> {
  const found: UserRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await provisioner.listUsers({
      ...query,
      limit: Math.min(PAGE, limit - found.length),
      ...(cursor === null ? {} : { cursor }),
    });
    found.push(...page.users);
    cursor = page.nextCursor;
  } while (cursor !== null && found.length < limit);
  return { users: found, more: cursor !== null };
}

/** `users list`. */
function registerList(users: Command, app: App): void {
  users
    .command('list')
    .description('list users, oldest first, every page of them (up to --limit)')
    .option('--query <text>', 'a substring of email, name, username or subject (case-insensitive)')
    .option('--role <role>', 'only this role')
    .option('--status <status>', 'active or disabled')
    .option(
      '--seen-before <duration>',
      'dormant users: last seen (or, never seen, created) that long ago, e.g. 90d',
    )
    .option('--limit <n>', 'at most this many users in all')
    .option('--json', 'print { users, more } as JSON')
    .addHelpText(
      'after',
      examples(
        'jit-provision users list --seen-before 90d --status active',
        'jit-provision users list --query ada --json',
      ),
    )
    .action(async (options: ListOptions) => {
      const limit =
        options.limit === undefined ? Number.POSITIVE_INFINITY : parseCount(options.limit, '--limit');
      const seenBefore =
        options.seenBefore === undefined
          ? undefined
          : new Date(Date.now() - parseDuration(options.seenBefore, '--seen-before'));
      const provisioner = await app.context().provisioner();
      // Core checks role and status (invalid_field, exit 1) before it reads anything.
      const query: ListUsersQuery = {
        ...(options.query === undefined ? {} : { query: options.query }),
        ...(options.role === undefined ? {} : { role: options.role }),
        ...(options.status === undefined ? {} : { status: options.status as UserStatus }),
        ...(seenBefore === undefined ? {} : { seenBefore }),
      };
      const { users: found, more } = await listAll(provisioner, query, limit);
      emit(app, options.json, { users: found, more }, () => {
        const rows = table(found, ['id', 'username', 'email', 'role', 'status', 'lastSeenAt', 'createdAt']);
        return more ? `${rows}(more: raise --limit)\n` : rows;
      });
    });
}

/** `users show`. */
function registerShow(users: Command, app: App): void {
  refCommand(
    users,
    app,
    { name: 'show', summary: 'show one user', example: 'jit-provision users show oidc:kcl:f81d4fae --json' },
    async (user, options) => showUser(app, options.json, user),
  );
}

/** `users disable`. */
function registerDisable(users: Command, app: App): void {
  refCommand(
    users,
    app,
    {
      name: 'disable',
      summary: 'refuse every request of a user (403 user_disabled) until enable; idempotent',
      example: 'jit-provision users disable oidc:kcl:f81d4fae --reason "left the company"',
      changes: true,
      options: (command) => command.option('--reason <text>', 'why, recorded in the user.disabled event'),
    },
    async (user, options) => {
      const provisioner = await app.context().provisioner();
      const changed = await provisioner.disable(user.id, {
        actor: actorOf(options),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
      showUser(app, options.json, changed);
    },
  );
}

/** `users enable` and `users revoke-sessions`: changes that take nothing but the actor and answer the user. */
function registerSimpleChanges(users: Command, app: App): void {
  for (const [name, summary, example, change] of [
    [
      'enable',
      'let a disabled user in again; idempotent',
      'jit-provision users enable oidc:kcl:f81d4fae',
      (p: Provisioner, id: string, actor: string) => p.enable(id, { actor }),
    ],
    [
      'revoke-sessions',
      'sign a user out everywhere: tokens issued before now are refused (401)',
      'jit-provision users revoke-sessions --issuer https://sso.example.com/realms/main --subject f81d4fae',
      (p: Provisioner, id: string, actor: string) => p.revokeSessions(id, { actor }),
    ],
  ] as const) {
    refCommand(users, app, { name, summary, example, changes: true }, async (user, options) => {
      const provisioner = await app.context().provisioner();
      showUser(app, options.json, await change(provisioner, user.id, actorOf(options)));
    });
  }
}

/** `users delete`. */
function registerDelete(users: Command, app: App): void {
  refCommand(
    users,
    app,
    {
      name: 'delete',
      summary:
        'erase a user (their next login is a new first login; to keep someone out, disable them); asks on a terminal, else needs --yes',
      example: [
        'jit-provision users delete oidc:kcl:f81d4fae',
        'jit-provision users delete oidc:kcl:f81d4fae --yes',
      ],
      changes: true,
      options: (command) => command.option('-y, --yes', 'do not ask (required without a terminal)'),
      check: (options) => checkDeleteConfirmable(app, options),
    },
    async (user, options) => {
      await confirmDelete(app, options, user);
      const provisioner = await app.context().provisioner();
      await provisioner.deleteUser(user.id, { actor: actorOf(options) });
      emit(
        app,
        options.json,
        { deleted: user.id, username: user.username },
        () => `deleted ${printable(user.username)} (${user.id})\n`,
      );
    },
  );
}

interface AddOptions {
  issuer: string;
  subject: string;
  email?: string;
  name?: string;
  role?: string;
  json?: boolean;
}

/** `users add`. */
function registerAdd(users: Command, app: App): void {
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
    .action(async (options: AddOptions) => {
      const provisioner = await app.context().provisioner();
      const user = await provisioner.preProvision({
        issuer: options.issuer,
        subject: options.subject,
        ...(options.email === undefined ? {} : { email: options.email }),
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.role === undefined ? {} : { role: options.role }),
      });
      showUser(app, options.json, user);
    });
}

/** `users set-role`. */
function registerSetRole(users: Command, app: App): void {
  refCommand(
    users,
    app,
    {
      name: 'set-role',
      summary: 'set a user’s role, or with --default hand it back to the default role',
      example: [
        'jit-provision users set-role oidc:kcl:f81d4fae admin',
        'jit-provision users set-role oidc:kcl:f81d4fae --default',
      ],
      extraArgs: '[role]',
      changes: true,
      options: (command) =>
        command.option('--default', 'reset the role to the provisioner’s defaultRole (instead of <role>)'),
      check: (options, [role]) => {
        if (options.default === true && role !== undefined)
          throw usageError('give either <role> or --default');
        if (options.default !== true && role === undefined)
          throw usageError('users set-role needs the new <role> (or --default)');
      },
    },
    async (user, options, [role]) => {
      const provisioner = await app.context().provisioner();
      showUser(
        app,
        options.json,
        await provisioner.setRole(user.id, role ?? null, { actor: actorOf(options) }),
      );
    },
  );
}

/** `users list|show|add|set-role|disable|enable|delete|revoke-sessions`. */
export const registerUsers: Register = (program, app) => {
  const users = program.command('users').description('find, pre-provision, change and remove users');
  // In this order: it is the order `users --help` lists them in.
  for (const register of [
    registerList,
    registerShow,
    registerDisable,
    registerSimpleChanges,
    registerDelete,
    registerAdd,
    registerSetRole,
  ]) {
    register(users, app);
  }
};
