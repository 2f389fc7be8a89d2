import type { Command } from 'commander';
import type { CliContext } from './config';
import type { CliIo } from './io';
import { printJson } from './output';

/** What every command module gets: the streams, and the context built from the global options. */
export interface App {
  readonly io: CliIo;
  /** Built once per run, before the first action, from `--config` / `--secret-file` / the environment. */
  context(): CliContext;
}

/** A command module adds its commands to the program. */
export type Register = (program: Command, app: App) => void;

/** Help text that ends every command's `--help`: one or more runnable examples. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** Print `document` as JSON with `--json`, else the text `render` makes. */
export function emit(app: App, json: boolean | undefined, document: unknown, render: () => string): void {
  if (json === true) printJson(app.io, document);
  else app.io.stdout(render());
}
