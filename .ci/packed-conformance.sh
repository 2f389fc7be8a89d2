#!/usr/bin/env bash
# Conformance kit against the packed tarballs: what a store author gets from npm, not the workspace sources.
# Packs core, testing, store-memory and store-postgres, installs them with plain npm (plus vitest and pg) into a
# temp app outside the workspace, then
#   1. runs runStoreConformance from `@jit-provision/testing` for both stores against real Postgres (the kit's
#      dist must share core's error classes with the stores, not bundle a copy of its own), and checks that the
#      deprecated `@jit-provision/core/testing` re-exports the very same kits;
#   2. races 40 first logins in createUser mode with the app on core's ESM build and store-memory loaded
#      through require() (core's CJS build): every login must succeed and exactly one user be created.
# Needs `pnpm build` first and DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PACKAGES=(core testing store-memory store-postgres)
STEP_TIMEOUT="${PACKED_STEP_TIMEOUT:-300}"
: "${DATABASE_URL:?packed-conformance: DATABASE_URL must point at a Postgres server}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/jit-provision-packed.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
case "$WORK" in "$ROOT"/*) echo "packed-conformance: temp dir must be outside the workspace" >&2; exit 1 ;; esac
mkdir -p "$WORK/tarballs" "$WORK/app"

for pkg in "${PACKAGES[@]}"; do
  if [ ! -f "packages/$pkg/dist/index.js" ]; then
    echo "packed-conformance: packages/$pkg has no dist; run pnpm build first" >&2
    exit 1
  fi
  (cd "packages/$pkg" && timeout "$STEP_TIMEOUT" pnpm pack --pack-destination "$WORK/tarballs" >/dev/null)
done
VITEST_RANGE="$(node -p "require('./packages/testing/package.json').devDependencies.vitest")"
PG_RANGE="$(node -p "require('./packages/store-postgres/package.json').devDependencies.pg")"

cd "$WORK/app"
cat >package.json <<'JSON'
{ "name": "jit-provision-packed-conformance", "version": "0.0.0", "private": true, "type": "module" }
JSON
timeout "$STEP_TIMEOUT" npm install --no-audit --no-fund --loglevel=error \
  "$WORK"/tarballs/*.tgz "vitest@$VITEST_RANGE" "pg@$PG_RANGE"

cat >vitest.config.mjs <<'JS'
export default { test: { include: ['*.test.mjs'], testTimeout: 30_000, hookTimeout: 60_000 } };
JS

cat >memory.test.mjs <<'JS'
import { createMemoryStore } from '@jit-provision/store-memory';
import { runStoreConformance } from '@jit-provision/testing';

runStoreConformance({ name: 'packed store-memory', createStore: () => createMemoryStore() });
JS

# The deprecated entry of core: the same functions as the package it re-exports.
cat >deprecated-entry.test.mjs <<'JS'
import { createRequire } from 'node:module';
import * as kits from '@jit-provision/testing';
import * as shim from '@jit-provision/core/testing';
import { expect, it } from 'vitest';

const require = createRequire(import.meta.url);

it('@jit-provision/core/testing re-exports @jit-provision/testing', () => {
  expect(Object.keys(shim).sort()).toEqual(Object.keys(kits).sort());
  expect(shim.runStoreConformance).toBe(kits.runStoreConformance);
  // CJS: resolvable only; loading would require() vitest, which refuses CommonJS callers.
  expect(require.resolve('@jit-provision/core/testing')).toMatch(/testing\.cjs$/);
  expect(require.resolve('@jit-provision/testing')).toMatch(/index\.cjs$/);
});
JS

cat >postgres.test.mjs <<'JS'
import { randomBytes } from 'node:crypto';
import { createPostgresStore, migrate } from '@jit-provision/store-postgres';
import { runStoreConformance } from '@jit-provision/testing';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

const schema = `jitp_packed_${randomBytes(5).toString('hex')}`;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
beforeAll(() => migrate(pool, { schema }));
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

// Port 1: nothing listens there, so every call of this store must answer provisioning_unavailable.
const unreachable = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2_000 });
afterAll(() => unreachable.end());

runStoreConformance({
  name: 'packed store-postgres',
  createStore: () => createPostgresStore({ pool, schema }),
  createBrokenStore: () => createPostgresStore({ pool: unreachable, schema }),
});
JS

# The app is ESM; the store comes through require(), so it throws errors from core's CJS build.
cat >mixed-race.mjs <<'JS'
import { createRequire } from 'node:module';
import { createProvisioner } from '@jit-provision/core';

const require = createRequire(import.meta.url);
const { createMemoryStore } = require('@jit-provision/store-memory');
const store = createMemoryStore();
let calls = 0;
const createUser = async () => {
  calls += 1;
  await new Promise((resolve) => setTimeout(resolve, 30));
  return `app-user-${calls}`;
};
const provisioners = Array.from({ length: 4 }, () => createProvisioner({ store, createUser, cache: false }));
const key = { issuer: 'https://mixed.example', subject: 'racer' };
const settled = await Promise.allSettled(
  Array.from({ length: 40 }, (_, i) => provisioners[i % 4].ensureUserExists(key)),
);
const refused = settled.filter((s) => s.status === 'rejected');
const created = settled.filter((s) => s.status === 'fulfilled' && s.value.created).length;
const ids = new Set(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.user.id] : [])));
console.log(
  `mixed ESM app / CJS store: ${40 - refused.length}/40 succeeded, ${created} created, ${ids.size} user id(s), ` +
    `createUser called ${calls}x; refusals: ${JSON.stringify([...new Set(refused.map((r) => r.reason?.code ?? String(r.reason)))])}`,
);
if (refused.length > 0 || created !== 1 || ids.size !== 1 || calls !== 1) process.exit(1);
JS

status=0
timeout "$STEP_TIMEOUT" node mixed-race.mjs || status=1
timeout "$STEP_TIMEOUT" ./node_modules/.bin/vitest run --config vitest.config.mjs || status=1
if [ "$status" != 0 ]; then
  echo "packed-conformance: FAILED" >&2
  exit 1
fi
echo "packed-conformance: ok"
