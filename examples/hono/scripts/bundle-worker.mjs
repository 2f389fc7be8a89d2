#!/usr/bin/env node
// Bundles src/worker.ts as Wrangler would for workerd: only `node:*` left external (nodejs_compat), the
// `workerd` export conditions first. Fails when anything else stays unresolved, e.g. a bare `crypto`
// import from a built dist/ file (tsup strips the `node:` prefix unless told not to). Run by .ci/edge.sh and
// by src/worker.edge.ts, which runs the bundle under Miniflare. Needs the packages built (`pnpm build`).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
// esbuild comes with tsup (a root devDependency); no second copy to keep in step.
const root = createRequire(new URL('../../../package.json', import.meta.url));
const esbuild = createRequire(root.resolve('tsup'))('esbuild');

/** The Worker bundle as one ES module; throws with esbuild's errors or the offending bare imports. */
export async function bundleWorker() {
  const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: ['src/worker.ts'],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    external: ['node:*'],
    // Not the repository's tsconfig: its `paths` point @jit-provision/* at the sources, and the check is about
    // the built dist/ files an app installs.
    tsconfigRaw: {},
    metafile: true,
    logLevel: 'silent',
  });
  const external = new Set(
    Object.values(result.metafile.outputs)
      .flatMap((output) => output.imports)
      .filter((imported) => imported.external)
      .map((imported) => imported.path),
  );
  const bare = [...external].filter((path) => !path.startsWith('node:'));
  const sources = Object.keys(result.metafile.inputs).filter((path) => /packages\/[^/]+\/src\//.test(path));
  if (sources.length > 0) throw new Error(`the Worker bundle took sources, not dist/: ${sources[0]}`);
  if (bare.length > 0) throw new Error(`the Worker bundle imports bare built-ins: ${bare.join(', ')}`);
  return { code: result.outputFiles[0]?.text ?? '', builtins: [...external] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { code, builtins } = await bundleWorker();
    console.log(
      `Worker bundle: ${(code.length / 1024).toFixed(0)} KiB, external: ${builtins.join(', ') || 'none'}`,
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
