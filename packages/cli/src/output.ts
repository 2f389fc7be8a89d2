import type { CliIo } from './io';

/** A cell as printed: dates in ISO 8601, null/undefined as `-`. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
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

/** Print one JSON document (Dates become ISO 8601 strings). */
export function printJson(io: CliIo, document: unknown): void {
  io.stdout(`${JSON.stringify(document, null, 2)}\n`);
}

/** Key: value lines, aligned, for one record. */
export function record(value: Record<string, unknown>, keys: readonly string[] = Object.keys(value)): string {
  const width = Math.max(...keys.map((k) => k.length));
  return `${keys.map((k) => `${`${k}:`.padEnd(width + 1)} ${cell(value[k])}`).join('\n')}\n`;
}
