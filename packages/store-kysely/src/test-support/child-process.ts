import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
// tsx resolves `@jit-provision/*` to sources through this tsconfig's paths, as vitest's aliases do.
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

export interface RunningChild {
  process: ChildProcess;
  /** The first stdout line satisfying `match`. */
  line(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  send(line: string): void;
  /** Exit code (signal → null) and stderr once the process ended. */
  exited: Promise<{ code: number | null; stderr: string }>;
  /** Send `signal` unless the process already ended, then wait until it has. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Run a TypeScript file in a real Node process via tsx. `file` is resolved against this folder
 * (src/test-support): `./crash-child.ts` for a helper here, `../cli.ts` for a package source.
 */
export function runTs(file: string, args: string[], env: Record<string, string | undefined>): RunningChild {
  // One Node process with tsx as a loader, not the tsx CLI: the CLI runs the script in a second process,
  // so a SIGKILL aimed at it would orphan the real app instead of killing it.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: TSCONFIG },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      lines.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
    for (const wake of waiters) wake();
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('close', (code) => {
      for (const wake of waiters) wake();
      resolve({ code, stderr });
    }),
  );
  return {
    process: child,
    exited,
    send: (line) => child.stdin?.write(`${line}\n`),
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    line: (match, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching line from ${file} in ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        function check() {
          const found = lines.find(match);
          if (found !== undefined) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`${file} exited without a matching line; stderr: ${stderr}`));
          }
        }
        waiters.add(check);
        check();
      }),
  };
}
