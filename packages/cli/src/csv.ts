import { parse } from 'csv-parse/sync';
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

/** The rows worth sending, the rows that are not, and `fatal` when the file as a whole cannot be used. */
export interface InviteCsv {
  rows: InviteRow[];
  problems: CsvProblem[];
  fatal?: CsvProblem | undefined;
}

const COLUMNS = ['email', 'role', 'expires'] as const;
type Column = (typeof COLUMNS)[number];

/**
 * Parse an invitation CSV (columns `email`, `role?`, `expires?`; a header row, or none when the first field
 * is an address): csv-parse handles the BOM, CRLF and quoted fields (commas, quotes, line breaks inside).
 * Every unusable row is reported with its line and never stops the others; a syntax error or a file
 * without rows is `fatal`, so nothing is sent from a file that was not fully understood.
 *
 * @example
 * ```ts
 * const { rows, problems } = parseInviteCsv('email,role\nada@example.com,admin\n');
 * ```
 */
export function parseInviteCsv(text: string): InviteCsv {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 1;
    return { rows: [], problems: [], fatal: { line, message: `not valid CSV: ${(error as Error).message}` } };
  }
  const nonEmpty = records.filter((r) => r.record.some((field) => field !== ''));
  if (nonEmpty.length === 0)
    return { rows: [], problems: [], fatal: { line: 1, message: 'the file is empty' } };

  const problems: CsvProblem[] = [];
  const first = nonEmpty[0] as (typeof nonEmpty)[number];
  const headerless = (first.record[0] ?? '').includes('@');
  let columns: (Column | undefined)[];
  if (headerless) {
    columns = [...COLUMNS];
  } else {
    columns = first.record.map((name) => {
      const column = name.toLowerCase() as Column;
      if (COLUMNS.includes(column)) return column;
      problems.push({
        line: first.info.lines,
        message: `unknown column "${name}" (allowed: ${COLUMNS.join(', ')}); ignored`,
      });
      return undefined;
    });
    if (!columns.includes('email')) {
      return {
        rows: [],
        problems,
        fatal: { line: first.info.lines, message: 'the header has no email column' },
      };
    }
  }
  const body = headerless ? nonEmpty : nonEmpty.slice(1);
  if (body.length === 0) return { rows: [], problems, fatal: { line: 1, message: 'the file has no rows' } };

  const rows: InviteRow[] = [];
  for (const { record, info } of body) {
    // info.lines is where the record ends; a quoted field may span lines, so count back to its start.
    const start = info.lines - (record.join('').match(/\n/g)?.length ?? 0);
    if (record.length > columns.length) {
      problems.push({ line: start, message: `${record.length} fields, the header has ${columns.length}` });
      continue;
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
      problems.push({ line: start, message: (error as Error).message });
      continue;
    }
    if (row.email === '') {
      problems.push({ line: start, message: 'no email' });
      continue;
    }
    rows.push(row);
  }
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
