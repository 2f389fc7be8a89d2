#!/usr/bin/env bash
# The edge step of .ci/run (issue 32), once per CI run whatever Node lines the main suite runs on:
#   1. src/worker.ts of examples/hono bundles with only `node:*` external (no bare `crypto` from a dist/);
#   2. the adapter, hostile-input and guard kits against a Hono app served by Bun.serve, then Deno.serve,
#      and store-postgres (pg: conformance kit, LISTEN/NOTIFY) against the real server at DATABASE_URL, with
#      vitest itself running in that runtime (vitest.edge.config.ts: packages/*/src/**/*.edge.ts);
#   3. that Worker bundle on workerd under Miniflare (`nodejs_compat`), driven from Node; the adapter and guard
#      kits bundled into a Worker with the built packages (packages/adapter-hono/src/workerd.edge.ts); the hostile-input
#      table against a Hono app in a Worker (packages/adapter-hono/src/workerd-hostile.edge.ts); and a Worker on
#      store-postgres reaching DATABASE_URL through Miniflare's outbound TCP (packages/store-postgres/src/workerd.edge.ts).
# The runtimes are pinned in .ci/edge/package.json (+ lockfile) and installed from the npm registry into a
# cache outside the checkout, keyed by the lockfile, on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?the edge step runs store-postgres against a real server: set DATABASE_URL}"

LOCK=.ci/edge/package-lock.json
KEY="$(sha256sum "$LOCK" | cut -c1-16)"
DIR="${CI_EDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jit-provision-ci/edge}/$KEY"
BIN="$DIR/node_modules/.bin"
if ! { "$BIN/bun" --version && "$BIN/deno" --version && [ -f "$DIR/node_modules/miniflare/package.json" ]; } >/dev/null 2>&1; then
  rm -rf "$DIR" && mkdir -p "$DIR"
  cp .ci/edge/package.json "$LOCK" "$DIR/"
  # The postinstall scripts of bun, deno and workerd only link the binary their per-platform package ships.
  npm ci --prefix "$DIR" --no-audit --no-fund --loglevel=error
fi
export PATH="$BIN:$PATH"
VITEST=node_modules/vitest/vitest.mjs
echo "bun $(bun --version), $(deno --version | head -n1), miniflare $(node -p "require('$DIR/node_modules/miniflare/package.json').version")"

echo "--- Worker bundle, only node:* external"
node examples/hono/scripts/bundle-worker.mjs

echo "--- kits and store-postgres on Bun"
# Bun.serve refuses request heads over 16 KiB unless told otherwise; the kits send 128 KiB. BUN_OPTIONS reaches
# vitest's forked workers too.
EDGE_RUNTIME=bun BUN_OPTIONS=--max-http-header-size=262144 bun --bun "$VITEST" run --config vitest.edge.config.ts packages/

echo "--- kits and store-postgres on Deno"
EDGE_RUNTIME=deno deno run -A "$VITEST" run --config vitest.edge.config.ts packages/

echo "--- the Worker, and store-postgres (pg over outbound TCP), on workerd (Miniflare)"
EDGE_RUNTIME=workerd EDGE_MINIFLARE_DIR="$DIR" node "$VITEST" run --config vitest.edge.config.ts examples/ packages/adapter-hono/src/workerd.edge.ts packages/adapter-hono/src/workerd-hostile.edge.ts packages/store-postgres/src/workerd.edge.ts
