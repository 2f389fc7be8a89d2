import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A PgBouncer in front of the test server, started by the test that needs it. */
export interface PgBouncer {
  /** Connection string through the bouncer (same user and database as the server's). */
  url: string;
  stop(): Promise<void>;
}

// /usr/sbin is not on a non-root user's PATH on Debian, where the package puts the binary.
function findBinary(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, 'pgbouncer');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const PGBOUNCER_BINARY = findBinary();

/**
 * Why the PgBouncer tests are skipped, or undefined when they run. They run wherever the binary is; in CI a
 * missing binary is a failure (`.ci/run` installs it), not a skip.
 */
export const PGBOUNCER_SKIP_REASON: string | undefined =
  PGBOUNCER_BINARY !== undefined || process.env['CI'] !== undefined
    ? undefined
    : 'pgbouncer is not installed (apt-get install -y pgbouncer)';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * Start PgBouncer in `mode` (default transaction) on a free loopback port, in front of the server of
 * `serverUrl` (trust auth). It refuses to run as root, so as root it runs as the `postgres` user.
 */
export async function startPgBouncer(
  serverUrl: string,
  options: { mode?: 'transaction' | 'session'; poolSize?: number } = {},
): Promise<PgBouncer> {
  if (PGBOUNCER_BINARY === undefined)
    throw new Error('pgbouncer is not installed (apt-get install -y pgbouncer)');
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jitp-pgbouncer-'));
  chmodSync(dir, 0o777);
  const config = join(dir, 'pgbouncer.ini');
  writeFileSync(join(dir, 'users.txt'), `"${user}" ""\n`, { mode: 0o644 });
  writeFileSync(
    config,
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || '5432'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      `pool_mode = ${options.mode ?? 'transaction'}`,
      `default_pool_size = ${options.poolSize ?? 4}`,
      'max_client_conn = 500',
      'ignore_startup_parameters = extra_float_digits,options',
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = asRoot
    ? spawn('runuser', ['-u', 'postgres', '--', PGBOUNCER_BINARY, config], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawn(PGBOUNCER_BINARY, [config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`pgbouncer did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  server.hostname = '127.0.0.1';
  server.port = String(port);
  return {
    url: server.toString(),
    async stop() {
      // runuser passes SIGTERM on to pgbouncer (and exits with it).
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
