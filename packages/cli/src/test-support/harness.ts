// Test-only: imported by the *.test.ts files beside the code, never by src/index.ts, and left out of the
// build (tsconfig.build.json), so nothing in the published package depends on vitest.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createPostgresStore, migrate, type PostgresStore } from '@jit-provision/store-postgres';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

export const DATABASE_URL = process.env['DATABASE_URL'] || undefined;
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
// tsx resolves `@jit-provision/*` to sources through this tsconfig's paths, as vitest's aliases do; loaded by
// absolute URL so the CLI can run in any working directory (config discovery is per directory).
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));
export const SECRET = randomBytes(24).toString('hex');
export const INVITATION_URL = 'https://app.example.com/signup?token={token}';

const APP_CHILD = fileURLToPath(
  new URL('../../../store-postgres/src/test-support/invalidation-child.ts', import.meta.url),
);

/** `s` as one single-quoted sh word. */
const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** The command line that runs the CLI from source in a fresh Node process. */
export const cliCommand = (): string[] => [process.execPath, '--import', TSX, CLI];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `jit-provision …` in a real process; `env` replaces the inherited environment entirely. */
export function runCli(
  args: string[],
  options: { env: Record<string, string>; cwd?: string },
): Promise<CliResult> {
  const [node, ...pre] = cliCommand() as [string, ...string[]];
  const child = spawn(node, [...pre, ...args], {
    cwd: options.cwd ?? tmpdir(),
    env: { PATH: process.env['PATH'] ?? '', TSX_TSCONFIG_PATH: TSCONFIG, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/**
 * Run a documented shell line as written, `npx jit-provision` standing for the CLI from source, in `cwd`
 * with `env` as the whole environment (besides PATH).
 */
export function runDocLine(line: string, options: { env: Record<string, string>; cwd: string }) {
  const command = line.replaceAll('npx jit-provision', cliCommand().map(shellQuote).join(' '));
  const child = spawn('sh', ['-c', command], {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '', TSX_TSCONFIG_PATH: TSCONFIG, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise<CliResult>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
}

/** A fresh schema for one test file (migrated unless told not to), its env, and a pool to check with. */
export async function freshDatabase(label: string, options: { migrate?: boolean } = {}) {
  const url = DATABASE_URL as string;
  const schema = `jitp_cli_${label}_${randomBytes(5).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  if (options.migrate !== false) await migrate(pool, { schema });
  const env = { DATABASE_URL: url, JIT_PROVISION_SCHEMA: schema, INVITATION_SECRET: SECRET, INVITATION_URL };
  return {
    schema,
    pool,
    env,
    async close() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

/** A scratch directory outside the workspace (no config file to find), removed by `remove()`. */
export function scratch(): { dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'jitp-cli-'));
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A running app process holding one user in its cache: store-postgres's own invalidation child (a provisioner
 * with a 10-minute user cache TTL, so only the change feed can make it see a change in time), driven by
 * JSON lines: `{ op: 'watch', expect }` → `{ watching: true }` once the user is served from the cache, then
 * `{ seenAt, path }` once `ensureUserExists` matches `expect` (user fields, or `{ error: code }`).
 */
export interface AppProcess {
  /** The next stdout line parsed as JSON that satisfies `match`; rejects after `timeoutMs` (a hang catcher). */
  next(
    match: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  send(message: unknown): void;
  stop(): Promise<void>;
}

/** Start the app process in its own Node process, for `identity`, against `env`'s schema. */
export async function startApp(
  env: Record<string, string>,
  identity: { issuer: string; subject: string },
): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--import', TSX, APP_CHILD], {
    env: {
      PATH: process.env['PATH'] ?? '',
      TSX_TSCONFIG_PATH: TSCONFIG,
      ...env,
      FLEET_SCHEMA: env['JIT_PROVISION_SCHEMA'] ?? '',
      FLEET_ISSUER: identity.issuer,
      FLEET_SUBJECT: identity.subject,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  let exited = false;
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdout.on('data', (c: Buffer) => {
    buffer += c.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      messages.push(line === 'ready' ? { ready: true } : (JSON.parse(line) as Record<string, unknown>));
    }
    for (const wake of waiters) wake();
  });
  const closed = new Promise<void>((resolve) =>
    child.once('close', () => {
      exited = true;
      for (const wake of waiters) wake();
      resolve();
    }),
  );
  const next: AppProcess['next'] = (match, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`app process: no matching message in ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      function check() {
        const index = messages.findIndex(match);
        if (index >= 0) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(messages.splice(index, 1)[0] as Record<string, unknown>);
        } else if (exited) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`app process exited; stderr: ${stderr}`));
        }
      }
      waiters.add(check);
      check();
    });
  await next((m) => m['ready'] === true);
  return {
    next,
    send: (message) => child.stdin.write(`${JSON.stringify(message)}\n`),
    async stop() {
      if (!exited) child.stdin.write(`${JSON.stringify({ op: 'exit' })}\n`);
      await closed;
    },
  };
}

/** Whether script(1) from util-linux is there to give a command a pseudo-terminal. */
export const hasScript = (): Promise<boolean> =>
  new Promise<boolean>((resolve) =>
    spawn('script', ['--version'])
      .once('error', () => resolve(false))
      .once('close', (code) => resolve(code === 0)),
  );

/**
 * Run `jit-provision …` on a pseudo-terminal (script -q -e -c): standard input, output and error are a TTY.
 * When the output shows `prompt`, type `answer` and Enter. Answers the exit code and everything the
 * terminal showed.
 */
export function runOnTerminal(
  args: string[],
  env: Record<string, string>,
  reply?: { prompt: string; answer: string },
): Promise<{ code: number | null; output: string }> {
  const command = [...cliCommand(), ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    env: { PATH: process.env['PATH'] ?? '', TERM: 'xterm', TSX_TSCONFIG_PATH: TSCONFIG, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let answered = reply === undefined;
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
    // Typed only once the question is on screen, as a person would.
    if (!answered && reply !== undefined && output.includes(reply.prompt)) {
      answered = true;
      child.stdin.write(`${reply.answer}\r`);
    }
  });
  return new Promise((resolve) =>
    child.once('close', (code) => {
      child.stdin.destroy();
      resolve({ code, output });
    }),
  );
}

/** What a describe block of CLI tests works with: a fresh schema, a store on it, a scratch directory. */
export interface CliSuite {
  readonly db: Awaited<ReturnType<typeof freshDatabase>>;
  readonly store: PostgresStore;
  readonly dir: ReturnType<typeof scratch>;
  /** `jit-provision …` in a real process, with the schema's env unless `env` replaces it. */
  cli(args: string[], env?: Record<string, string>, cwd?: string): Promise<CliResult>;
}

/** Set up a {@link CliSuite} before the enclosing describe's tests and tear it down after them. */
export function cliSuite(label: string): CliSuite {
  let state: Omit<CliSuite, 'cli'> | undefined;
  const get = () => {
    if (state === undefined) throw new Error('cliSuite is ready once beforeAll has run');
    return state;
  };
  beforeAll(async () => {
    const db = await freshDatabase(label);
    state = { db, store: createPostgresStore({ pool: db.pool, schema: db.schema }), dir: scratch() };
  });
  afterAll(async () => {
    state?.dir.remove();
    await state?.db.close();
  });
  return {
    get db() {
      return get().db;
    },
    get store() {
      return get().store;
    },
    get dir() {
      return get().dir;
    },
    cli: (args, env = get().db.env, cwd) => runCli(args, { env, ...(cwd === undefined ? {} : { cwd }) }),
  };
}
