import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { migrate } from '@jit-provision/store-postgres';
import pg from 'pg';

export const DATABASE_URL = process.env['DATABASE_URL'] || undefined;
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
// tsx resolves `@jit-provision/*` to sources through this tsconfig's paths, as vitest's aliases do; loaded by
// absolute URL so the CLI can run in any working directory (config discovery is per directory).
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TSCONFIG = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
export const SECRET = randomBytes(24).toString('hex');
export const INVITATION_URL = 'https://app.example.com/signup?token={token}';

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
