import type { Options } from 'tsup';

/** Shared build: ESM + CJS + .d.ts/.d.cts for every package. */
export function packageConfig(entry: Record<string, string> = { index: 'src/index.ts' }): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    treeshake: true,
    splitting: false,
    // Per-package and paths-free: only this package's sources; workspace packages stay external in .d.ts.
    tsconfig: 'tsconfig.build.json',
    // Keep `node:crypto` as written: tsup strips the prefix by default, and a Workers bundler that leaves only
    // `node:*` external (nodejs_compat) then fails on a bare `crypto`. .ci/edge-bundle.mjs checks it.
    removeNodeProtocol: false,
  };
}
