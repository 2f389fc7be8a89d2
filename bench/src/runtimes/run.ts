// The in-process hit path (hit.ts) on Node, Bun, Deno and workerd, as a table:
// `pnpm --filter @jit-provision/bench bench runtimes` after `pnpm build`, with bun and deno on PATH and EDGE_MINIFLARE_DIR naming a folder where
// miniflare is installed (.ci/edge.sh's cache has all three). A runtime that is missing is reported, not run.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createDevIssuer } from '@jit-provision/core/dev';
import type { Section } from '../report';
import { type HitSetup, timeHits } from './hit';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
type Timing = { sync: number; async: number };
/** The part of esbuild (tsup's, not a dependency of its own) this file calls. */
type EsbuildLike = {
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
};

async function child(command: string, args: string[], setup: HitSetup): Promise<Timing> {
  const { stdout } = await run(command, [...args, join(here, 'cli.ts')], {
    cwd: join(here, '../..'),
    env: { ...process.env, HIT_SETUP: JSON.stringify(setup), NO_COLOR: '1' },
  }).catch((err: Error & { stderr?: string }) => {
    // The runtime's own error line, not execFile's "Command failed".
    const line = (err.stderr ?? '').split('\n').find((l) => /error/i.test(l));
    throw new Error(line ?? err.message);
  });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as Timing;
}

/** workerd: each loop timed from outside, less an empty request; median of 7. */
async function workerd(setup: HitSetup, n = 100_000): Promise<Timing> {
  const dir = process.env['EDGE_MINIFLARE_DIR'];
  if (dir === undefined) throw new Error('EDGE_MINIFLARE_DIR is not set');
  const root = createRequire(join(here, '../../../package.json'));
  const esbuild = createRequire(root.resolve('tsup'))('esbuild') as EsbuildLike;
  const bundle = await esbuild.build({
    entryPoints: [join(here, 'worker.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    external: ['node:*'],
    tsconfigRaw: {},
  });
  const { Miniflare } = (await import(
    pathToFileURL(createRequire(join(dir, 'package.json')).resolve('miniflare')).href
  )) as {
    Miniflare: new (o: object) => { dispatchFetch(u: string): Promise<Response>; dispose(): Promise<void> };
  };
  const mf = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]?.text,
    compatibilityDate: '2025-07-18',
    compatibilityFlags: ['nodejs_compat'],
    bindings: { HIT_SETUP: JSON.stringify(setup) },
  });
  const timed = async (mode: string, count: number) => {
    const t = performance.now();
    await (await mf.dispatchFetch(`http://bench/?mode=${mode}&n=${count}`)).text();
    return performance.now() - t;
  };
  try {
    const per = async (mode: string) => {
      await timed(mode, n);
      const xs: number[] = [];
      for (let r = 0; r < 7; r++) xs.push((((await timed(mode, n)) - (await timed(mode, 0))) * 1000) / n);
      return xs.sort((a, b) => a - b)[3] as number;
    };
    return { sync: await per('sync'), async: await per('async') };
  } finally {
    await mf.dispose();
  }
}

/** The sync and async hit path per runtime; a runtime that cannot start is a row saying why. */
export async function runtimesBenchmark(): Promise<Section> {
  const audience = 'bench-api';
  const idp = await createDevIssuer();
  const setup: HitSetup = {
    issuer: idp.issuer,
    audience,
    token: await idp.mint({ sub: 'user-1', email: 'user-1@example.com' }, { audience, expiresIn: 3600 }),
  };
  const runtimes: Array<[string, () => Promise<Timing>]> = [
    [`Node ${process.version}`, () => timeHits(setup)],
    ['Bun', () => child('bun', [], setup)],
    ['Deno', () => child('deno', ['run', '-A'], setup)],
    ['workerd (Miniflare)', () => workerd(setup)],
  ];
  const rows: Section['rows'] = [];
  try {
    for (const [name, measure] of runtimes) {
      try {
        const { sync, async } = await measure();
        rows.push({
          runtime: name,
          'sync hit, µs/call': sync.toFixed(3),
          'async hit, µs/call': async.toFixed(3),
        });
      } catch (err) {
        const why = `not run: ${(err as Error).message.split('\n')[0]}`;
        rows.push({ runtime: name, 'sync hit, µs/call': why, 'async hit, µs/call': '' });
      }
    }
  } finally {
    await idp.close();
  }
  return {
    title: 'The in-process hit path per runtime',
    rows,
    targets: [],
    notes: [
      'median of 7 rounds of 100,000 calls; workerd timed from outside per request, less an empty one',
      'needs bun and deno on PATH and EDGE_MINIFLARE_DIR (.ci/edge.sh caches all three)',
    ],
  };
}
