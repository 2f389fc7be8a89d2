/** One benchmark's printed outcome: a table, and one PASS/GAP line per target. */
export interface Section {
  title: string;
  rows: Record<string, string | number>[];
  targets: Target[];
  notes: string[];
}

export interface Target {
  name: string;
  /** The measured value the target is about, as printed. */
  measured: string;
  goal: string;
  pass: boolean;
}

const cell = (value: string | number) =>
  typeof value === 'number'
    ? Number.isInteger(value)
      ? value.toLocaleString('en-US')
      : value.toFixed(2)
    : value;

/** Render rows as a Markdown table (readable in a terminal too). */
export function table(rows: Record<string, string | number>[]): string {
  const first = rows[0];
  if (first === undefined) return '(no rows)';
  const columns = Object.keys(first);
  const text = rows.map((row) => columns.map((c) => cell(row[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => String(r[i]).length)));
  const line = (values: (string | number)[]) =>
    `| ${values.map((v, i) => String(v).padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

export function targetLine(t: Target): string {
  return `${t.pass ? 'PASS' : 'GAP '} ${t.name}: ${t.measured} (target ${t.goal})`;
}

export function render(section: Section): string {
  return [
    `## ${section.title}`,
    '',
    table(section.rows),
    '',
    ...section.targets.map((t) => `    ${targetLine(t)}`),
    ...(section.notes.length > 0 ? ['', ...section.notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
}

export const ratio = (a: number, b: number) => (b === 0 ? Number.NaN : a / b);
export const fmt = (n: number, digits = 2) => n.toFixed(digits);

/** Percentile of a sample (nearest rank). */
export function percentile(sample: number[], p: number): number {
  if (sample.length === 0) return Number.NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export const median = (sample: number[]) => percentile(sample, 50);

/** High-resolution now, in milliseconds. */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Run `task` with at most `concurrency` in flight until `count` tasks ran; returns wall ms. */
export async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return now() - start;
}
