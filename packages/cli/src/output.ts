import type { CliIo } from './io';

// C0 (with ESC, CR, LF, TAB), DEL and C1 (with CSI 0x9b, OSC 0x9d): a terminal acts on them (clears the
// screen, moves the cursor, writes the clipboard with OSC 52, forges lines). The bidi controls (ALM, LRM, RLM,
// LRE…RLO, LRI…PDI) and the line/paragraph separators reorder or break what is shown.
const BEYOND_C0 = '\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const UNSAFE = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}]`, 'g');
// JSON.stringify escapes C0 in strings itself, and its indentation is real line breaks.
const UNSAFE_IN_JSON = new RegExp(`[${BEYOND_C0}]`, 'g');
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const hex = (c: string, digits: number) => (c.codePointAt(0) as number).toString(16).padStart(digits, '0');

/**
 * `text` with every character a terminal would act on written out as an escape (`\x1b`, `\n`, `\u202e`),
 * so a value from a supplied file or from the database is shown, never obeyed. Every message that quotes
 * such a value goes through it (CSV problems, per-row failures, error lines, tables and records).
 *
 * @example
 * ```ts
 * printable('team\u001b]52;c;aGk=\u0007'); // 'team\\x1b]52;c;aGk=\\x07'
 * ```
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? (c <= '\u00ff' ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/** A cell as printed: dates in ISO 8601, null/undefined as `-`, terminal controls escaped ({@link printable}). */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return printable(JSON.stringify(value));
  return printable(String(value));
}

/**
 * Rows as an aligned table with a header, one line per row; `(none)` for no rows.
 *
 * @example
 * ```ts
 * table([{ id: 'a', role: 'admin' }], ['id', 'role']);
 * // id  role
 * // a   admin
 * ```
 */
export function table(rows: readonly object[], columns: readonly string[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((row) =>
    columns.map((c) => cell((row as Record<string, unknown>)[c]).replace(/\s+/g, ' ')),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return `${[line(columns), ...cells.map(line)].join('\n')}\n`;
}

/**
 * Print one JSON document (Dates become ISO 8601 strings). JSON.stringify escapes C0 only: DEL, C1 and the
 * bidi controls are written as `\\u` escapes too (the same strings to a JSON reader; inert on a terminal).
 */
export function printJson(io: CliIo, document: unknown): void {
  io.stdout(`${JSON.stringify(document, null, 2).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`)}\n`);
}

/** Key: value lines, aligned, for one record. */
export function record(value: Record<string, unknown>, keys: readonly string[] = Object.keys(value)): string {
  const width = Math.max(...keys.map((k) => k.length));
  return `${keys.map((k) => `${`${k}:`.padEnd(width + 1)} ${cell(value[k])}`).join('\n')}\n`;
}
