import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createKyselyStore } from './index';
import { openEngine } from './test-support/engines';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = `${ROOT}packages/cli/src/cli.ts`;
const require = createRequire(import.meta.url);
const TSX = pathToFileURL(require.resolve('tsx')).href;

function cli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', TSX_TSCONFIG_PATH: `${ROOT}packages/cli/tsconfig.json` },
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

describe('the CLI on a Kysely store (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jp-kysely-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("migrate runs the configured dialect's migrations; users add writes through the config file's store", async () => {
    const file = join(dir, 'app.db');
    // The config file lives outside the workspace: its imports name the workspace's own copies by path.
    writeFileSync(
      join(dir, 'jit-provision.config.ts'),
      `import Database from '${require.resolve('better-sqlite3')}';
import { Kysely, SqliteDialect } from '${require.resolve('kysely')}';
import { createProvisioner } from '${ROOT}packages/core/src/index.ts';
import { createKyselyStore } from '${ROOT}packages/store-kysely/src/index.ts';
const db = new Kysely({ dialect: new SqliteDialect({ database: new Database(${JSON.stringify(file)}) }) });
export const store = createKyselyStore({ db, changes: false });
export const provisioner = createProvisioner({ store, defaultRole: 'member' });
`,
    );
    const first = await cli(['migrate'], dir);
    expect(first, first.stderr).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('applied 0001_');
    const again = await cli(['migrate'], dir);
    expect(again.stdout).toContain('tables up to date');

    const added = await cli(
      ['users', 'add', '--issuer', 'https://cli.test', '--subject', 'Ada', '--json'],
      dir,
    );
    expect(added, added.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(added.stdout)).toMatchObject({ role: 'member', subject: 'Ada' });

    const db = openEngine({ ENGINE: 'sqlite', ENGINE_PLACE: file });
    const store = createKyselyStore({ db, changes: false });
    expect(await store.lookup({ issuer: 'https://cli.test', subject: 'Ada' })).toMatchObject({
      role: 'member',
    });
    expect(await store.lookup({ issuer: 'https://cli.test', subject: 'ada' })).toBeNull();
    await db.destroy();
  });
});
