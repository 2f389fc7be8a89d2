import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests run against sources, so `pnpm test` needs no build step.
export default defineConfig({
  resolve: {
    alias: [
      // The deprecated `/core/testing` entry re-exports `@jit-provision/testing`: both resolve to its sources.
      { find: /^@jit-provision\/core\/testing$/, replacement: src('testing/src/index.ts') },
      { find: /^@jit-provision\/testing$/, replacement: src('testing/src/index.ts') },
      { find: /^@jit-provision\/core\/dev$/, replacement: src('core/src/dev/index.ts') },
      { find: /^@jit-provision\/core\/adapter$/, replacement: src('core/src/adapter/index.ts') },
      { find: /^@jit-provision\/core\/admin$/, replacement: src('core/src/admin/index.ts') },
      { find: /^@jit-provision\/core\/kratos$/, replacement: src('core/src/kratos/index.ts') },
      { find: /^@jit-provision\/core\/backchannel$/, replacement: src('core/src/backchannel/index.ts') },
      { find: /^@jit-provision\/core$/, replacement: src('core/src/index.ts') },
      { find: /^@jit-provision\/store-memory$/, replacement: src('store-memory/src/index.ts') },
      { find: /^@jit-provision\/store-postgres$/, replacement: src('store-postgres/src/index.ts') },
      { find: /^@jit-provision\/store-kysely$/, replacement: src('store-kysely/src/index.ts') },
      { find: /^@jit-provision\/adapter-express$/, replacement: src('adapter-express/src/index.ts') },
      { find: /^@jit-provision\/adapter-fastify$/, replacement: src('adapter-fastify/src/index.ts') },
      { find: /^@jit-provision\/adapter-hono$/, replacement: src('adapter-hono/src/index.ts') },
      { find: /^@jit-provision\/cli$/, replacement: src('cli/src/index.ts') },
      { find: /^@jit-provision\/scim$/, replacement: src('scim/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
    // Type-level tests (*.test-d.ts: declaration merges, public option types) run with `pnpm test` too.
    typecheck: {
      enabled: true,
      include: ['packages/*/src/**/*.test-d.ts'],
      tsconfig: './tsconfig.typecheck.json',
    },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
