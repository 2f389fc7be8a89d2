import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { parseDuration } from './durations';

/** One data row of an invitation CSV, with the line it starts on (1-based, the header is line 1). */
export interface InviteRow {
  line: number;
  email: string;
  role?: string | undefined;
  expiresInMs?: number | undefined;
}

/** A problem with one line; `line` 1 is the header (or the file as a whole). */
export interface CsvProblem {
  line: number;
  message: string;
}

/**
 * The rows worth sending, the rows that are not, `fatal` when the file as a whole cannot be used, and
 * `tooMany` (the line past the limit) when it holds more data rows than `maxRows`: reading stopped there.
 */
export interface InviteCsv {
  rows: InviteRow[];
  problems: CsvProblem[];
  fatal?: CsvProblem | undefined;
  tooMany?: { line: number } | undefined;
}

/** How much of a file the CLI takes in: data rows (`--max-rows`); a record is at most MAX_RECORD_CHARS. */
export interface CsvLimits {
  maxRows: number;
}

/** The default of `--max-rows`: bounds what a file can make the CLI hold, and send in one run. */
export const DEFAULT_MAX_ROWS = 100_000;

/**
 * One record (a row, or a quoted field running on) longer than this is broken quoting or not an invitation
 * list: an address is at most 254 characters, a role 64.
 */
export const MAX_RECORD_CHARS = 65_536;

const COLUMNS = ['email', 'role', 'expires'] as const;
type Column = (typeof COLUMNS)[number];

interface Parsed {
  record: string[];
  info: { lines: number };
}

/** The header's columns (unknown ones `undefined`, each reported), or `undefined` without an email column. */
function headerColumns(first: Parsed, problems: CsvProblem[]): (Column | undefined)[] | undefined {
  const columns = first.record.map((name) => {
    const column = name.toLowerCase() as Column;
    if (COLUMNS.includes(column)) return column;
    problems.push({
      line: first.info.lines,
      message: `unknown column "${name}" (allowed: ${COLUMNS.join(', ')}); ignored`,
    });
    return undefined;
  });
  return columns.includes('email') ? columns : undefined;
}

/** One data record as a row, or the problem that keeps it from being one. */
function readRow({ record, info }: Parsed, columns: readonly (Column | undefined)[]): InviteRow | CsvProblem {
  // info.lines is where the record ends; a quoted field may span lines, so count back to its start.
  const start = info.lines - (record.join('').match(/\n/g)?.length ?? 0);
  if (record.length > columns.length) {
    return { line: start, message: `${record.length} fields, the header has ${columns.length}` };
  }
  const row: InviteRow = { line: start, email: '' };
  try {
    record.forEach((value, i) => {
      const column = columns[i];
      if (column === 'email') row.email = value;
      else if (column === 'role' && value !== '') row.role = value;
      else if (column === 'expires' && value !== '') row.expiresInMs = parseDuration(value, 'expires');
    });
  } catch (error) {
    return { line: start, message: (error as Error).message };
  }
  return row.email === '' ? { line: start, message: 'no email' } : row;
}

const notValid = (error: unknown): CsvProblem => ({
  line: (error as { lines?: number }).lines ?? 1,
  message:
    (error as { code?: string }).code === 'CSV_MAX_RECORD_SIZE'
      ? `not valid CSV: a record longer than ${MAX_RECORD_CHARS} characters (broken quoting?)`
      : `not valid CSV: ${(error as Error).message}`,
});

/**
 * Parse an invitation CSV (columns `email`, `role?`, `expires?`; a header row, or none when the first field
 * is an address) as a stream: csv-parse handles the BOM, CRLF and quoted fields (commas, quotes, line
 * breaks inside), and only the rows themselves are kept, so memory follows the rows, not the file. Every
 * unusable row is reported with its line and never stops the others; a syntax error or a file without rows
 * is `fatal`, and more than `maxRows` data rows is `tooMany`, so nothing is sent from a file that was not
 * fully read and understood.
 *
 * @example
 * ```ts
 * const { rows, problems } = await parseInviteCsv('email,role\nada@example.com,admin\n', { maxRows: 1000 });
 * ```
 */
export async function parseInviteCsv(input: Readable | string, limits: CsvLimits): Promise<InviteCsv> {
  const source = typeof input === 'string' ? Readable.from([input]) : input;
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
    max_record_size: MAX_RECORD_CHARS,
  });
  // pipe() does not pass a read error on: without this the loop below would wait forever.
  source.once('error', (error) => parser.destroy(error));
  source.pipe(parser);
  const rows: InviteRow[] = [];
  const problems: CsvProblem[] = [];
  let columns: (Column | undefined)[] | undefined;
  let count = 0;
  try {
    for await (const parsed of parser as AsyncIterable<Parsed>) {
      if (!parsed.record.some((field) => field !== '')) continue;
      if (columns === undefined) {
        const headerless = (parsed.record[0] ?? '').includes('@');
        columns = headerless ? [...COLUMNS] : headerColumns(parsed, problems);
        if (columns === undefined) {
          const fatal = { line: parsed.info.lines, message: 'the header has no email column' };
          return { rows: [], problems, fatal };
        }
        if (!headerless) continue;
      }
      if (++count > limits.maxRows) return { rows: [], problems, tooMany: { line: parsed.info.lines } };
      const row = readRow(parsed, columns);
      if ('email' in row) rows.push(row);
      else problems.push(row);
    }
  } catch (error) {
    return { rows: [], problems: [], fatal: notValid(error) };
  } finally {
    source.destroy();
  }
  if (columns === undefined) return { rows: [], problems, fatal: { line: 1, message: 'the file is empty' } };
  if (count === 0) return { rows: [], problems, fatal: { line: 1, message: 'the file has no rows' } };
  return { rows, problems };
}

/**
 * Rows as CSV text with a header, for every CSV the CLI writes. A cell that a spreadsheet would run as a
 * formula (it begins with `=`, `+`, `-`, `@`, a tab or a CR, or their full-width forms) gets a leading `'`
 * (csv-stringify's `escape_formulas`): the values come from a supplied file, and a results file holds live
 * invitation links, which a `=HYPERLINK(…)` cell could otherwise send away on one click.
 *
 * @example
 * ```ts
 * toCsv([{ email: '=HYPERLINK("https://x.example")' }], ['email']); // "email\n'=HYPERLINK(…)…"
 * ```
 */
export function toCsv(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  return stringify([...rows], { header: true, columns: [...columns], escape_formulas: true });
}
