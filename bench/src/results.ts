import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { LoadWindow } from './load';
import type { Target } from './report';

/** One full run as RESULTS.md keeps it: enough to lay three runs side by side. */
export interface RunRecord {
  /** ISO time the run started. */
  started: string;
  machine: string;
  seconds: number;
  benchmarks: { name: string; load: LoadWindow; targets: Target[] }[];
}

const KEPT = 3;
const DATA_START = '<!-- runs-data';
const DATA_END = '-->';

/** The runs an earlier RESULTS.md recorded (newest last); none when it has no data block. */
export function previousRuns(path: string): RunRecord[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(DATA_START);
  const end = text.indexOf(DATA_END, start);
  if (start < 0 || end < 0) return [];
  try {
    const runs: unknown = JSON.parse(text.slice(start + DATA_START.length, end));
    return Array.isArray(runs) ? (runs as RunRecord[]) : [];
  } catch {
    return [];
  }
}

const label = (run: RunRecord, i: number) =>
  `run ${i + 1} (${run.started.slice(0, 16).replace('T', ' ')} UTC)`;
const pad = (cells: string[]) => `| ${cells.join(' | ')} |`;
const load = (w: LoadWindow) =>
  `${w.before.toFixed(2)} / ${w.after.toFixed(2)} / ${w.others === undefined ? 'n/a' : w.others.toFixed(2)}`;

/**
 * Write RESULTS.md: every target of the last three full runs side by side, the load each benchmark ran at,
 * then the newest run's tables in full. The runs travel in a comment at the end, so the next run can add itself.
 */
export function writeResults(path: string, run: RunRecord, sections: string[]): RunRecord[] {
  const runs = [...previousRuns(path), run].slice(-KEPT);
  const names: { name: string; goal: string }[] = [];
  for (const r of runs)
    for (const b of r.benchmarks)
      for (const t of b.targets)
        if (!names.some((n) => n.name === t.name)) names.push({ name: t.name, goal: t.goal });
  const cell = (r: RunRecord, name: string) => {
    for (const b of r.benchmarks) {
      const t = b.targets.find((x) => x.name === name);
      if (t !== undefined) return `${t.pass ? 'PASS' : '**GAP**'} ${t.measured}`;
    }
    return '—';
  };
  const benchNames = [...new Set(runs.flatMap((r) => r.benchmarks.map((b) => b.name)))];
  const out = [
    '# Benchmark results (the last three full runs)',
    '',
    `Written by \`pnpm bench\` (a full run) from the repository root; each full run adds itself and the oldest of ${KEPT} drops out.`,
    'Every benchmark waits for a 1-minute load average ≤ 1.5 before it starts and is refused (not written here) if',
    'the load before it or the CPU other processes used during it exceeded 1.5. What each benchmark does, and the',
    'causes of every GAP: [README.md](./README.md#known-gaps-measured-with-their-causes).',
    '',
    ...runs.map((r, i) => `- ${label(r, i)}: ${r.machine}; wall time ${r.seconds} s.`),
    '',
    '## Targets, run by run',
    '',
    pad(['target', 'goal', ...runs.map(label)]),
    pad(['---', '---', ...runs.map(() => '---')]),
    ...names.map((n) => pad([n.name, n.goal, ...runs.map((r) => cell(r, n.name))])),
    '',
    '## Load around each benchmark',
    '',
    '1-minute load average before / after (after includes the benchmark itself) / cores other processes used during it.',
    '',
    pad(['benchmark', ...runs.map(label)]),
    pad(['---', ...runs.map(() => '---')]),
    ...benchNames.map((name) =>
      pad([
        name,
        ...runs.map((r) => {
          const b = r.benchmarks.find((x) => x.name === name);
          return b === undefined ? '—' : load(b.load);
        }),
      ]),
    ),
    '',
    `# The newest run in full (${label(run, runs.length - 1)})`,
    '',
    ...sections,
    DATA_START,
    JSON.stringify(runs),
    DATA_END,
    '',
  ].join('\n');
  writeFileSync(path, out);
  return runs;
}
