/**
 * `pnpm bench`: every benchmark in one run, each printing a table and a PASS/GAP line per target.
 * `tsx run-all.ts http rejected` runs only the named ones. Results of a full run go to RESULTS.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { render, type Section, targetLine } from './src/report';

const BENCHMARKS: Record<string, () => Promise<Section>> = {
  http: async () => (await import('./src/http')).httpBenchmark(),
  'fast-path': async () => (await import('./src/fast-path')).fastPathBenchmark(),
  'slow-path': async () => (await import('./src/slow-path')).slowPathBenchmark(),
  storms: async () => (await import('./src/storms')).stormsBenchmark(),
  rejected: async () => (await import('./src/rejected')).rejectedBenchmark(),
  memory: async () => (await import('./src/memory')).memoryBenchmark(),
  invalidation: async () => (await import('./src/invalidation')).invalidationBenchmark(),
  'hit-path': async () => (await import('./src/hit-path')).hitPathBenchmark(),
  telemetry: async () => (await import('./src/telemetry')).telemetryBenchmark(),
  'outbox-drain': async () => (await import('./src/outbox-drain')).outboxDrainBenchmark(),
  'sid-check': async () => (await import('./src/sid-check')).sidCheckBenchmark(),
  scim: async () => (await import('./src/scim')).scimBenchmark(),
  introspection: async () => (await import('./src/introspection')).introspectionBenchmark(),
  throughput: async () => (await import('./src/throughput')).throughputBenchmark(),
  // Not in a full run: it needs bun, deno and miniflare installed (see README, "The hit path per runtime").
  runtimes: async () => (await import('./src/runtimes/run')).runtimesBenchmark(),
};

const picked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = picked.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
const names = picked.length > 0 ? picked : Object.keys(BENCHMARKS).filter((name) => name !== 'runtimes');
const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
console.log(`jit-provision benchmarks — ${machine}\n`);

const started = Date.now();
const sections: string[] = [];
const summary: string[] = [];
let failed = false;
for (const name of names) {
  const t0 = Date.now();
  try {
    const section = await (BENCHMARKS[name] as () => Promise<Section>)();
    const text = render(section);
    console.log(text);
    console.log(`(${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    sections.push(text);
    summary.push(...section.targets.map(targetLine));
  } catch (err) {
    failed = true;
    console.error(`benchmark ${name} failed:`, err);
    sections.push(`## ${name}\n\nFAILED: ${(err as Error).message}\n`);
    summary.push(`FAIL ${name}: ${(err as Error).message}`);
  }
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(['## Summary', '', ...summary.map((l) => `    ${l}`), '', `Total: ${seconds} s`].join('\n'));

if (picked.length === 0) {
  const date = new Date().toISOString().slice(0, 10);
  const out = [
    '# Benchmark results (last full run)',
    '',
    `Machine: ${machine}. Date: ${date}. Postgres: ${process.env['DATABASE_URL'] ? 'DATABASE_URL' : 'local 127.0.0.1:5432'}. Wall time of the run: ${seconds} s.`,
    'Regenerate with `pnpm bench` from the repository root. What each benchmark does, and the causes of every GAP: [README.md](./README.md#known-gaps-measured-with-their-causes).',
    '',
    '## Summary',
    '',
    '```',
    ...summary,
    '```',
    '',
    ...sections,
  ].join('\n');
  writeFileSync(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), out);
}
process.exit(failed ? 1 : 0);
