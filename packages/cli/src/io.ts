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
  };
}
