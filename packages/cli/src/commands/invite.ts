import { closeSync, createReadStream, fchmodSync, fstatSync, openSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type CreateInvitationInput,
  type CreateManyResult,
  type InvitationService,
  isJitProvisionError,
} from '@jit-provision/core';
import { type App, emit, examples, type Register } from '../app';
import {
  type CsvLimits,
  DEFAULT_MAX_ROWS,
  type InviteCsv,
  type InviteRow,
  parseInviteCsv,
  toCsv,
} from '../csv';
import { parseCount, parseDuration, parseRate } from '../durations';
import { CliError, usageError } from '../errors';
import { printable } from '../output';
import { startProgress, type Tally } from '../progress';

interface InviteOptions {
  role?: string;
  expires?: string;
  invitedBy: string;
  csv?: string;
  rate: string;
  concurrency: string;
  out?: string;
  json?: boolean;
  printUrl?: boolean;
  maxRows: string;
}

/** What happened to one CSV line. */
interface RowResult {
  line: number;
  email: string;
  status: 'sent' | 'skipped' | 'failed';
  detail: string;
  invitationId?: string | undefined;
  url?: string | undefined;
}

const errorCode = (error: unknown) =>
  isJitProvisionError(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : String(error);

async function inviteOne(app: App, email: string, options: InviteOptions): Promise<void> {
  const context = app.context();
  const invitations = await context.invitations(true);
  const fromEnv = (await context.source()) === 'env';
  const input: CreateInvitationInput = {
    email,
    invitedBy: options.invitedBy,
    ...(options.role === undefined ? {} : { role: options.role }),
    ...(options.expires === undefined ? {} : { expiresInMs: parseDuration(options.expires, '--expires') }),
  };
  const { invitation, url } = await invitations.create(input);
  // With a config file the app's `send` delivers the link; printing it too would put a live token in a
  // terminal's scrollback for nothing. From the environment there is no `send`: the URL is the delivery.
  const shownUrl = fromEnv || options.printUrl === true ? url : undefined;
  emit(app, options.json, { invitation, ...(shownUrl === undefined ? {} : { url: shownUrl }) }, () =>
    shownUrl === undefined
      ? `invited ${invitation.email} as ${invitation.role} until ${invitation.expiresAt.toISOString()} (sent by the app’s send hook)\n`
      : `${shownUrl}\n`,
  );
  if (!options.json && shownUrl !== undefined) {
    app.io.stderr(
      `invited ${invitation.email} as ${invitation.role} until ${invitation.expiresAt.toISOString()}\n`,
    );
  }
}

/**
 * Read and parse `file` as a stream, up to `limits`; every problem goes to stderr, and a file that is not
 * fully read and understood sends nothing.
 */
async function readCsv(app: App, file: string, limits: CsvLimits): Promise<InviteCsv> {
  let fd: number;
  try {
    // Opened here so an unreadable path is a usage error before any parsing; a directory opens but is no file.
    fd = openSync(resolve(app.io.cwd, file), 'r');
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    }
  } catch (error) {
    throw usageError(`--csv ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const parsed = await parseInviteCsv(createReadStream('', { fd }), limits);
  // Messages quote the file's cells (a header, an expires value): printable, never obeyed by the terminal.
  for (const problem of parsed.problems)
    app.io.stderr(`${printable(`${file}:${problem.line}: ${problem.message}`)}\n`);
  if (parsed.tooMany !== undefined) {
    throw new CliError(
      'csv_too_large',
      `${file}:${parsed.tooMany.line}: more than ${limits.maxRows} rows (--max-rows ${limits.maxRows}); nothing was sent: raise the limit with --max-rows <n>, or split the file`,
      2,
    );
  }
  if (parsed.fatal !== undefined) {
    throw new CliError(
      'invalid_csv',
      `${file}:${parsed.fatal.line}: ${parsed.fatal.message}; nothing was sent`,
      1,
    );
  }
  return parsed;
}

/**
 * The rows to send, and the results already known without sending: invalid rows (failed) and addresses
 * with a pending invitation (skipped).
 */
async function sortRows(
  invitations: InvitationService,
  parsed: InviteCsv,
): Promise<{ results: RowResult[]; toSend: InviteRow[] }> {
  // Re-running a file must not invite anyone twice: an address with a pending invitation is skipped.
  const pending = new Set((await invitations.list({ status: 'pending' })).map((i) => i.email));
  const results: RowResult[] = parsed.problems
    .filter((p) => p.line > 1)
    .map((p) => ({ line: p.line, email: '', status: 'failed', detail: `invalid row: ${p.message}` }));
  const toSend: InviteRow[] = [];
  for (const row of parsed.rows) {
    if (pending.has(row.email.trim().toLowerCase())) {
      results.push({
        line: row.line,
        email: row.email,
        status: 'skipped',
        detail: 'a pending invitation exists',
      });
    } else {
      toSend.push(row);
    }
  }
  return { results, toSend };
}

/** What `createMany` did with one row, as a result line (the URL kept only when it is the delivery). */
function outcome(row: InviteRow, result: CreateManyResult, fromEnv: boolean): RowResult {
  if (!result.ok)
    return { line: row.line, email: row.email, status: 'failed', detail: errorCode(result.error) };
  if (result.duplicate) {
    return {
      line: row.line,
      email: row.email,
      status: 'skipped',
      detail: 'duplicate of an earlier line',
      invitationId: result.invitation.id,
    };
  }
  return {
    line: row.line,
    email: result.email,
    status: 'sent',
    detail: `${result.invitation.role} until ${result.invitation.expiresAt.toISOString()}`,
    invitationId: result.invitation.id,
    url: fromEnv ? result.url : undefined,
  };
}

interface SendSettings {
  perSecond: number;
  concurrency: number;
  defaultExpires: number | undefined;
  fromEnv: boolean;
}

/** Send `toSend` through `createMany` (throttled), with a progress display counting on from `known`. */
async function sendRows(
  app: App,
  invitations: InvitationService,
  toSend: InviteRow[],
  known: RowResult[],
  options: InviteOptions,
  settings: SendSettings,
): Promise<RowResult[]> {
  const tally: Tally = {
    sent: 0,
    skipped: known.filter((r) => r.status === 'skipped').length,
    failed: known.length,
  };
  tally.failed -= tally.skipped;
  const progress = startProgress(app.io, 'invite', toSend.length);
  let done = 0;
  const sent = await invitations.createMany(
    toSend.map((row) => ({
      email: row.email,
      invitedBy: options.invitedBy,
      ...((row.role ?? options.role) === undefined ? {} : { role: (row.role ?? options.role) as string }),
      ...((row.expiresInMs ?? settings.defaultExpires) === undefined
        ? {}
        : { expiresInMs: (row.expiresInMs ?? settings.defaultExpires) as number }),
    })),
    {
      perSecond: settings.perSecond,
      concurrency: settings.concurrency,
      onResult: (result, index) => {
        const r = outcome(toSend[index] as InviteRow, result, settings.fromEnv);
        tally[r.status] += 1;
        progress.update(++done, tally);
      },
    },
  );
  progress.stop();
  return sent.map((result, index) => outcome(toSend[index] as InviteRow, result, settings.fromEnv));
}

/** `--out`: one row per CSV line, readable by its owner only (it can hold live links). */
function writeResults(app: App, out: string, results: RowResult[], fromEnv: boolean): void {
  const rows = results.map((r) => ({
    line: r.line,
    email: r.email,
    status: r.status,
    detail: r.detail,
    invitation_id: r.invitationId ?? '',
    ...(fromEnv ? { url: r.url ?? '' } : {}),
  }));
  const columns = ['line', 'email', 'status', 'detail', 'invitation_id', ...(fromEnv ? ['url'] : [])];
  // The mode of `open` applies only to a new file: an existing results file is narrowed before it is written.
  const fd = openSync(resolve(app.io.cwd, out), 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeFileSync(fd, toCsv(rows, columns));
  } finally {
    closeSync(fd);
  }
}

/** The failed lines on stderr, the counts (or `--json`) on stdout; exit 1 when any line failed. */
function reportResults(
  app: App,
  file: string,
  results: RowResult[],
  options: InviteOptions,
  fromEnv: boolean,
): void {
  for (const r of results)
    if (r.status === 'failed') app.io.stderr(`${printable(`${file}:${r.line}: ${r.email} ${r.detail}`)}\n`);
  if (options.out !== undefined) writeResults(app, options.out, results, fromEnv);
  const summary = {
    sent: results.filter((r) => r.status === 'sent').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    failed: results.filter((r) => r.status === 'failed').length,
  };
  emit(
    app,
    options.json,
    { ...summary, results: results.map(({ url: _url, ...r }) => r) },
    () =>
      `sent ${summary.sent}, skipped ${summary.skipped}, failed ${summary.failed}${options.out === undefined ? '' : ` (per row: ${options.out})`}\n`,
  );
  if (fromEnv && summary.sent > 0 && options.out === undefined) {
    app.io.stderr(
      'note: without a config file nothing mails the links; give --out results.csv to keep them\n',
    );
  }
  if (summary.failed > 0) throw new CliError('reported', '', 1);
}

async function inviteCsv(app: App, file: string, options: InviteOptions): Promise<void> {
  // Flags first: a usage error (exit 2) never waits on the file or the database.
  const perSecond = parseRate(options.rate);
  const concurrency = parseCount(options.concurrency, '--concurrency');
  const defaultExpires =
    options.expires === undefined ? undefined : parseDuration(options.expires, '--expires');
  const maxRows = parseCount(options.maxRows, '--max-rows');
  const parsed = await readCsv(app, file, { maxRows });

  const context = app.context();
  const invitations = await context.invitations(true);
  const fromEnv = (await context.source()) === 'env';
  const { results, toSend } = await sortRows(invitations, parsed);
  const settings = { perSecond, concurrency, defaultExpires, fromEnv };
  results.push(...(await sendRows(app, invitations, toSend, results, options, settings)));
  results.sort((a, b) => a.line - b.line);
  reportResults(app, file, results, options, fromEnv);
}

/** `invite <email>` and `invite --csv file`. */
export const registerInvite: Register = (program, app) => {
  program
    .command('invite [email]')
    .description(
      'invite one address (prints the link, or sends it through the config’s send), or every row of --csv',
    )
    .option('--role <role>', 'role on first login (CSV: for rows without one)')
    .option('--expires <duration>', 'validity, e.g. 7d or 12h (CSV: for rows without one)')
    .option('--invited-by <id>', 'who invites, kept for audit', 'jit-provision-cli')
    .option('--csv <file>', 'invite every row (columns email, role?, expires?)')
    .option('--rate <rate>', 'CSV: invitations per second at most, e.g. 10/s or 600/m', '10/s')
    .option('--concurrency <n>', 'CSV: invitations in flight at once', '4')
    .option(
      '--max-rows <n>',
      'CSV: refuse a file with more data rows than this (nothing is sent)',
      String(DEFAULT_MAX_ROWS),
    )
    .option('--out <file>', 'CSV: write one result row per line (with the links when there is no config)')
    .option('--print-url', 'with a config: print the link too (for an app without a send hook)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples(
        'jit-provision invite ada@example.com --role editor --expires 7d',
        'jit-provision invite --csv team.csv --rate 10/s --out results.csv',
      ),
    )
    .action(async (email: string | undefined, options: InviteOptions) => {
      if (options.csv !== undefined) {
        if (email !== undefined) throw usageError('give <email> or --csv, not both');
        await inviteCsv(app, options.csv, options);
      } else {
        if (email === undefined) throw usageError('invite needs <email> or --csv <file>');
        await inviteOne(app, email, options);
      }
    });
};
