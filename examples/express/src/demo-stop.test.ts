import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
let running: ChildProcess | undefined;

/** `pnpm demo` as a user starts it, in its own process group, on a free port (PORT=0). */
async function startDemo(): Promise<{ pnpm: ChildProcess; port: number }> {
  const pnpm = spawn('pnpm', ['demo'], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, PORT: '0', DATABASE_URL: '', JIT_STORE: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running = pnpm;
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    pnpm.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on http:\/\/localhost:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    pnpm.once('exit', (code) => reject(new Error(`pnpm demo exited (${code}) before listening:\n${out}`)));
  });
  return { pnpm, port };
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until the port refuses connections; false if it still accepts them at the deadline. */
async function portFreed(port: number, deadlineMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (!(await portAcceptsConnections(port))) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

afterEach(() => {
  // Whatever the outcome, nothing of this demo outlives the test.
  if (running?.pid !== undefined) {
    try {
      process.kill(-running.pid, 'SIGKILL');
    } catch {}
  }
  running = undefined;
});

describe('pnpm demo', () => {
  // SIGTERM to pnpm alone is what `kill <pid>` or a supervisor sends; Ctrl-C is SIGINT to the terminal's
  // foreground process group, which holds pnpm, its shell and the server.
  const stops = [
    { how: 'SIGTERM to pnpm', stop: (pnpm: ChildProcess) => pnpm.kill('SIGTERM') },
    {
      how: 'Ctrl-C (SIGINT to the group)',
      stop: (pnpm: ChildProcess) => process.kill(-(pnpm.pid ?? 0), 'SIGINT'),
    },
  ];
  for (const { how, stop } of stops) {
    it(`one ${how} stops the server and frees its port`, { timeout: 90_000 }, async () => {
      const { pnpm, port } = await startDemo();
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const exited = once(pnpm, 'exit');
      stop(pnpm);
      await exited;
      expect(await portFreed(port)).toBe(true);
    });
  }
});
