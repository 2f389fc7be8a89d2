#!/usr/bin/env bash
# Release rehearsal: the maintainers' release path, end to end, against a registry of our own.
# In a throwaway copy of the checkout: `changeset version`, then `pnpm release` (build + `changeset publish`)
# into a Verdaccio on a free loopback port, then a fresh app installs what was published with plain npm and
# runs the smoke consumers. Asserts: every public package was bumped and got a CHANGELOG.md, internal
# dependencies point at the versions published with them (no workspace: left), and every tarball holds only
# dist, README.md, LICENSE, package.json (and a declared bin). The checkout itself is never modified.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VERDACCIO_VERSION=6.8.0
CACHE="${CI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jit-provision-ci}"
STEP_TIMEOUT="${REHEARSAL_STEP_TIMEOUT:-300}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/jit-provision-release.XXXXXX")"
VERDACCIO_PID=
cleanup() {
  if [ -n "$VERDACCIO_PID" ]; then kill "$VERDACCIO_PID" 2>/dev/null || true; wait "$VERDACCIO_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
case "$WORK" in "$ROOT"/*) echo "rehearsal: temp dir must be outside the workspace" >&2; exit 1 ;; esac

# --- A throwaway copy of the checkout: tracked and untracked-but-not-ignored files, as a fresh repo ---------
REPO="$WORK/repo"
mkdir -p "$REPO"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -xf - -C "$REPO"
cd "$REPO"
git init -q && git add -A
git -c user.name=rehearsal -c user.email=rehearsal@localhost commit -qm 'release rehearsal snapshot'
# Installed from the user's registry, before anything below points npm and pnpm at the local one.
timeout "$STEP_TIMEOUT" pnpm install --frozen-lockfile --prefer-offline --reporter=silent

# --- Verdaccio, installed once with npm into a cache dir outside the workspace ------------------------------
# node-fetch 2.7.0 instead of the one 6.8.0 asks for: that is what installs and runs on Node 20.
VERDACCIO_DIR="$CACHE/verdaccio-$VERDACCIO_VERSION"
if [ ! -x "$VERDACCIO_DIR/node_modules/.bin/verdaccio" ]; then
  echo "rehearsal: installing verdaccio@$VERDACCIO_VERSION into $VERDACCIO_DIR"
  mkdir -p "$VERDACCIO_DIR"
  printf '{ "private": true, "overrides": { "node-fetch": "2.7.0" } }\n' >"$VERDACCIO_DIR/package.json"
  timeout "$STEP_TIMEOUT" npm install --prefix "$VERDACCIO_DIR" --no-audit --no-fund --loglevel=error \
    "verdaccio@$VERDACCIO_VERSION"
fi

PORT="$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
REGISTRY="http://127.0.0.1:$PORT/"
mkdir -p "$WORK/verdaccio/storage"
# Our scope is local only (never proxied, so a same-named package on npmjs cannot leak in); everything else
# comes through from the npm registry. Publishing needs a user: one is registered below, in a local htpasswd.
cat >"$WORK/verdaccio/config.yaml" <<YAML
storage: $WORK/verdaccio/storage
auth:
  htpasswd:
    file: $WORK/verdaccio/htpasswd
    max_users: 1
uplinks:
  npmjs:
    url: ${NPM_UPSTREAM_REGISTRY:-https://registry.npmjs.org/}
packages:
  '@jit-provision/*':
    access: \$all
    publish: \$authenticated
  '**':
    access: \$all
    publish: \$authenticated
    proxy: npmjs
log: { type: file, path: $WORK/verdaccio/verdaccio.log, level: warn }
YAML
"$VERDACCIO_DIR/node_modules/.bin/verdaccio" --config "$WORK/verdaccio/config.yaml" --listen "127.0.0.1:$PORT" \
  >"$WORK/verdaccio/stdout.log" 2>&1 &
VERDACCIO_PID=$!
for _ in $(seq 1 120); do
  curl -sf "${REGISTRY}-/ping" >/dev/null 2>&1 && break
  kill -0 "$VERDACCIO_PID" 2>/dev/null || { cat "$WORK/verdaccio/stdout.log" >&2; exit 1; }
  sleep 0.5
done
curl -sf "${REGISTRY}-/ping" >/dev/null
PASSWORD="$(node -p "require('node:crypto').randomBytes(18).toString('hex')")"
TOKEN="$(curl -sf -X PUT -H 'content-type: application/json' \
  -d "{\"name\":\"rehearsal\",\"password\":\"$PASSWORD\"}" "${REGISTRY}-/user/org.couchdb.user:rehearsal" |
  node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).token))")"
# Every npm/pnpm below (changesets shells out to them) reads this config and nothing of the user's.
cat >"$WORK/npmrc" <<NPMRC
registry=$REGISTRY
//127.0.0.1:$PORT/:_authToken=$TOKEN
provenance=false
NPMRC
export NPM_CONFIG_USERCONFIG="$WORK/npmrc" npm_config_userconfig="$WORK/npmrc" npm_config_registry="$REGISTRY" \
  npm_config_provenance=false npm_config_git_checks=false
echo "rehearsal: verdaccio@$VERDACCIO_VERSION on $REGISTRY"

PUBLIC=()
for dir in packages/*/; do
  if [ "$(node -p "require('./${dir}package.json').private === true")" = false ]; then PUBLIC+=("${dir%/}"); fi
done
versions() { for dir in "${PUBLIC[@]}"; do node -p "require('./$dir/package.json').version"; done; }
mapfile -t BEFORE < <(versions)

echo "rehearsal: changeset version"
pnpm changeset version
mapfile -t AFTER < <(versions)
for i in "${!PUBLIC[@]}"; do
  dir="${PUBLIC[$i]}"
  echo "rehearsal: ${dir#packages/} ${BEFORE[$i]} -> ${AFTER[$i]}"
  if [ "${BEFORE[$i]}" = "${AFTER[$i]}" ]; then echo "rehearsal: $dir was not bumped" >&2; exit 1; fi
  [ -s "$dir/CHANGELOG.md" ] || { echo "rehearsal: $dir has no CHANGELOG.md" >&2; exit 1; }
  grep -qF "## ${AFTER[$i]}" "$dir/CHANGELOG.md" || { echo "rehearsal: $dir/CHANGELOG.md lacks ${AFTER[$i]}" >&2; exit 1; }
done
if ls .changeset/*.md 2>/dev/null | grep -v README.md >/dev/null; then
  echo "rehearsal: changeset version left changesets behind" >&2
  exit 1
fi
git add -A && git -c user.name=rehearsal -c user.email=rehearsal@localhost commit -qm 'version packages'

echo "rehearsal: pnpm release (build + changeset publish)"
timeout "$STEP_TIMEOUT" pnpm release

# --- What the registry now serves -----------------------------------------------------------------------
SPECS=()
for i in "${!PUBLIC[@]}"; do
  dir="${PUBLIC[$i]}"
  name="$(node -p "require('./$dir/package.json').name")"
  SPECS+=("$name@${AFTER[$i]}")
  (cd "$WORK" && npm pack --silent "$name@${AFTER[$i]}" >/dev/null)
  tarball="$WORK/$(node -p "'$name'.slice(1).replace('/', '-')")-${AFTER[$i]}.tgz"
  # Only the build, the README, the licence, the manifest and the bin the manifest declares.
  allowed='^package/(dist/.+|README\.md|LICENSE|package\.json'
  for bin in $(node -p "Object.values(require('./$dir/package.json').bin ?? {}).map(p => p.replace(/^\.\//, '')).join(' ')"); do
    allowed+="|${bin//./\\.}"
  done
  allowed+=')$'
  listing="$(tar -tzf "$tarball")"
  if grep -Ev "$allowed" <<<"$listing"; then
    echo "rehearsal: $name@${AFTER[$i]} ships files beyond dist, README.md, LICENSE, package.json (above)" >&2
    exit 1
  fi
  for must in package/README.md package/LICENSE package/package.json; do
    grep -qx "$must" <<<"$listing" || { echo "rehearsal: $name tarball lacks $must" >&2; exit 1; }
  done
done
# Internal dependencies name the versions published alongside them, with no workspace: range left.
node - "$WORK" "${SPECS[@]}" <<'JS'
const { execFileSync } = require('node:child_process');
const [work, ...specs] = process.argv.slice(2);
const published = new Map(specs.map((s) => { const at = s.lastIndexOf('@'); return [s.slice(0, at), s.slice(at + 1)]; }));
let bad = 0;
for (const [name, version] of published) {
  const manifest = JSON.parse(execFileSync('tar', ['-xOzf', `${work}/${name.slice(1).replace('/', '-')}-${version}.tgz`, 'package/package.json'], { encoding: 'utf8' }));
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (range.startsWith('workspace:')) { console.error(`${name} ${field}.${dep} is still ${range}`); bad++; }
      if (published.has(dep) && !range.replace(/^[\^~]/, '').startsWith(published.get(dep)) && !/[|><]|\s/.test(range)) {
        console.error(`${name} ${field}.${dep} is ${range}, but ${published.get(dep)} was published with it`); bad++;
      }
    }
  }
}
process.exit(bad ? 1 : 0);
JS

# --- A fresh app installs the release with plain npm and runs the smoke consumers --------------------------
cd "$ROOT"
SMOKE_SPECS="${SPECS[*]}" bash .ci/smoke.sh
echo "rehearsal: ok (${SPECS[*]})"
