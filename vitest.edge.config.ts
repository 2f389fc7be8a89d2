import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The runtime suites (packages/*/src/**/*.edge.ts): started once by .ci/edge.sh under bun and deno, whose
// vitest workers then run in that runtime. Not part of `pnpm test`, which runs on Node.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['packages/*/src/**/*.edge.ts', 'examples/*/src/**/*.edge.ts'],
    typecheck: { enabled: false },
  },
});
