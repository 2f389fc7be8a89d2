import { isJitProvisionError } from '@jit-provision/core';

/** Exit codes: 0 ok, 1 the operation failed, 2 usage or configuration. */
export type ExitCode = 0 | 1 | 2;

/** A failure the CLI reports as one line and a chosen exit code. `code` is printed first, like core's codes. */
export class CliError extends Error {
  readonly exitCode: 1 | 2;
  readonly code: string;
  constructor(code: string, message: string, exitCode: 1 | 2) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad arguments or a missing/invalid setting: exit 2. */
export const usageError = (message: string) => new CliError('usage_error', message, 2);
export const configError = (message: string) => new CliError('configuration_error', message, 2);

/**
 * One line for any error, and its exit code. Never a stack trace: core errors and CLI errors are expected
 * outcomes; anything else (a driver's error, a bug) still gets its first line only.
 */
export function describeFailure(error: unknown): { line: string; exitCode: 1 | 2 } {
  if (error instanceof CliError) return { line: `${error.code}: ${error.message}`, exitCode: error.exitCode };
  if (isJitProvisionError(error)) {
    const exitCode = error.code === 'configuration_error' ? 2 : 1;
    return { line: `${error.code}: ${firstLine(error.message)}`, exitCode };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { line: `error: ${firstLine(message)}`, exitCode: 1 };
}

const firstLine = (text: string) => text.split('\n')[0] ?? '';
