import { createInterface } from 'node:readline/promises';

/** Where the CLI reads its environment and writes; {@link run} takes one so it can run in-process too. */
export interface CliIo {
  /** Environment variables (`DATABASE_URL`, `INVITATION_SECRET`, …). */
  env: Readonly<Record<string, string | undefined>>;
  /** Directory a `jit-provision.config.*` is looked for in, and relative paths resolve against. */
  cwd: string;
  /** Write to standard output (text includes its own newlines). */
  stdout(text: string): void;
  /** Write to standard error. */
  stderr(text: string): void;
  /** Whether standard output is a terminal: tables and a progress bar there, plain lines otherwise. */
  isTTY: boolean;
  /** The stream the progress bar draws on (a TTY's stderr); absent → plain progress lines. */
  progressStream?: NodeJS.WriteStream | undefined;
  /**
   * Ask the person at the terminal and answer their line; absent when standard input is not a terminal, so
   * a command that needs a confirmation (`users delete`) wants `--yes` instead.
   */
  ask?: ((question: string) => Promise<string>) | undefined;
}

/** One question on the terminal through node:readline (line editing, Ctrl-C and Ctrl-D handled there). */
async function askOnTerminal(question: string): Promise<string> {
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  try {
    // Ctrl-D (end of input) closes the interface without an answer: that is a "no".
    const closed = new Promise<string>((resolve) => lines.once('close', () => resolve('')));
    // Ctrl-C at the prompt is a "no" as well (readline would otherwise only pause).
    lines.once('SIGINT', () => lines.close());
    return await Promise.race([lines.question(question), closed]);
  } finally {
    lines.close();
  }
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
    progressStream: process.stderr.isTTY === true ? process.stderr : undefined,
    ask: process.stdin.isTTY === true ? askOnTerminal : undefined,
  };
}
