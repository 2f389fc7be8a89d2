export { defineConfig, type JitProvisionConfig } from './config';
export type { ExitCode } from './errors';
export { type CliIo, processIo } from './io';
export { run } from './program';
