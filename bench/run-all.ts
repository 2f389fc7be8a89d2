/**
 * `pnpm bench`: every benchmark in one run, each printing a table and a PASS/GAP line per target.
 * `tsx run-all.ts http rejected` runs only the named ones. Every benchmark runs inside the load guard (src/load.ts);
 * a full run with none refused adds itself to RESULTS.md, which keeps the last three.
 */
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { guarded, loadLine, MAX_LOAD, REPORTABLE_LOAD } from './src/load';
import { render, type Section, targetLine } from './src/report';
import { type RunRecord, writeResults } from './src/results';

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
const record: RunRecord = { started: new Date().toISOString(), machine, seconds: 0, benchmarks: [] };
let failed = false;
let refused = 0;
for (const name of names) {
  const t0 = Date.now();
  try {
    const { value: section, load } = await guarded(BENCHMARKS[name] as () => Promise<Section>, (line) =>
      console.log(line),
    );
    section.notes.push(loadLine(load));
    const text = render(section);
    console.log(text);
    console.log(`(${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    if (load.refused !== undefined) {
      // Printed for whoever is investigating, never reported: the figures were taken on a busy machine.
      refused++;
      summary.push(`REFUSED ${name}: ${load.refused}`);
      continue;
    }
    sections.push(text);
    summary.push(...section.targets.map(targetLine));
    record.benchmarks.push({ name, load, targets: section.targets });
  } catch (err) {
    failed = true;
    console.error(`benchmark ${name} failed:`, err);
    sections.push(`## ${name}\n\nFAILED: ${(err as Error).message}\n`);
    summary.push(`FAIL ${name}: ${(err as Error).message}`);
  }
}
const seconds = Math.round((Date.now() - started) / 1000);
record.seconds = seconds;
console.log(['## Summary', '', ...summary.map((l) => `    ${l}`), '', `Total: ${seconds} s`].join('\n'));

if (picked.length === 0) {
  if (refused > 0 || failed || MAX_LOAD > REPORTABLE_LOAD) {
    console.log(
      `\nRESULTS.md not written: ${refused > 0 ? `${refused} benchmark(s) refused for load` : failed ? 'a benchmark failed' : `BENCH_MAX_LOAD ${MAX_LOAD} is looser than ${REPORTABLE_LOAD}`}.`,
    );
  } else {
    writeResults(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), record, sections);
  }
}
process.exit(failed || refused > 0 ? 1 : 0);
