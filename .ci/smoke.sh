#!/usr/bin/env bash
# Pack-and-install smoke test: what a user gets from npm, not what the workspace links.
# `pnpm pack` every public package (it rewrites workspace: ranges), install the tarballs with plain npm into
# an empty project outside the workspace, then run an ESM and a CommonJS consumer that each answer one
# authenticated request through Express + store-memory + the dev issuer, and run the jit-provision bin.
# Needs `pnpm build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PACKAGES=(core testing store-memory store-postgres adapter-express adapter-fastify adapter-hono cli)
STEP_TIMEOUT="${SMOKE_STEP_TIMEOUT:-300}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/jit-provision-smoke.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
case "$WORK" in "$ROOT"/*) echo "smoke: temp dir must be outside the workspace" >&2; exit 1 ;; esac
mkdir -p "$WORK/tarballs" "$WORK/app"

# SMOKE_SPECS (npm specs, e.g. from the release rehearsal's registry) replaces packing the workspace.
if [ -n "${SMOKE_SPECS:-}" ]; then
  read -ra INSTALL <<<"$SMOKE_SPECS"
else
  echo "smoke: packing into $WORK/tarballs"
  for pkg in "${PACKAGES[@]}"; do
    if [ ! -f "packages/$pkg/dist/index.js" ] || [ ! -f "packages/$pkg/dist/index.cjs" ]; then
      echo "smoke: packages/$pkg has no dist; run pnpm build first" >&2
      exit 1
    fi
    (cd "packages/$pkg" && timeout "$STEP_TIMEOUT" pnpm pack --pack-destination "$WORK/tarballs" >/dev/null)
  done
  if grep -q '"workspace:' <(for t in "$WORK"/tarballs/*.tgz; do tar -xOzf "$t" package/package.json; done); then
    echo "smoke: a packed package.json still has a workspace: range" >&2
    exit 1
  fi
  ls "$WORK/tarballs"
  INSTALL=("$WORK"/tarballs/*.tgz)
fi

cd "$WORK/app"
cat >package.json <<'JSON'
{ "name": "jit-provision-smoke", "version": "0.0.0", "private": true }
JSON
echo "smoke: npm install (${#INSTALL[@]} packages + express@5)"
# Plain npm, no workspace: peer dependencies (pg, fastify, hono...) are resolved the way users get them.
timeout "$STEP_TIMEOUT" npm install --no-audit --no-fund --loglevel=error \
  "${INSTALL[@]}" express@5

# One harness, two module systems: each script loads every package through its own loader (ESM import or
# CJS require) and hands what it loaded to the same check.
cat >check.cjs <<'JS'
const { once } = require('node:events');

/** Build an Express app with store-memory and answer one authenticated request; exit code 1 if wrong. */
exports.check = async function check(label, m) {
  for (const name of ['fastifyPlugin', 'honoMiddleware', 'createPostgresStore', 'migrate']) {
    if (typeof m[name] !== 'function') throw new Error(`${label}: ${name} is not exported`);
  }
  const idp = await m.createDevIssuer();
  const provisioner = m.createProvisioner({
    store: m.createMemoryStore(),
    issuers: [{ issuer: idp.issuer, audience: 'smoke' }],
  });
  const app = m.express();
  app.use(m.jitProvision(provisioner));
  app.get('/me', (req, res) => res.json(req.auth.user));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const subject = `smoke-${label.toLowerCase()}`;
  try {
    const token = await idp.mint({ sub: subject, email: `${subject}@example.com` }, { audience: 'smoke' });
    const res = await fetch(`http://127.0.0.1:${server.address().port}/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await res.json();
    if (res.status !== 200 || body.subject !== subject) {
      console.error(`${label}: unexpected answer`, res.status, body);
      process.exitCode = 1;
    } else {
      console.log(`${label} ok: ${body.username}`);
    }
  } finally {
    server.closeAllConnections();
    server.close();
    await idp.close();
  }
};
JS

cat >smoke.mjs <<'JS'
import { jitProvision } from '@jit-provision/adapter-express';
import { jitProvision as fastifyPlugin } from '@jit-provision/adapter-fastify';
import { jitProvision as honoMiddleware } from '@jit-provision/adapter-hono';
import { createProvisioner } from '@jit-provision/core';
import { createDevIssuer } from '@jit-provision/core/dev';
import { createMemoryStore } from '@jit-provision/store-memory';
import { createPostgresStore, migrate } from '@jit-provision/store-postgres';
import express from 'express';
import harness from './check.cjs';

// The kits (and core's deprecated re-export of them) resolve; loading them needs the vitest runner.
import.meta.resolve('@jit-provision/testing');
import.meta.resolve('@jit-provision/core/testing');
if (typeof (await import('@jit-provision/core/adapter')).bodyErrorResponse !== 'function') throw new Error('ESM core/adapter entry');
await harness.check('ESM', {
  jitProvision, fastifyPlugin, honoMiddleware, createProvisioner, createDevIssuer, createMemoryStore,
  createPostgresStore, migrate, express,
});
JS

cat >smoke.cjs <<'JS'
const { jitProvision } = require('@jit-provision/adapter-express');
const { jitProvision: fastifyPlugin } = require('@jit-provision/adapter-fastify');
const { jitProvision: honoMiddleware } = require('@jit-provision/adapter-hono');
const { createProvisioner } = require('@jit-provision/core');
const { createDevIssuer } = require('@jit-provision/core/dev');
const { createMemoryStore } = require('@jit-provision/store-memory');
const { createPostgresStore, migrate } = require('@jit-provision/store-postgres');
const express = require('express');
const { check } = require('./check.cjs');

require.resolve('@jit-provision/testing');
require.resolve('@jit-provision/core/testing');
if (typeof require('@jit-provision/core/adapter').bodyErrorResponse !== 'function') throw new Error('CJS core/adapter entry');
check('CJS', {
  jitProvision, fastifyPlugin, honoMiddleware, createProvisioner, createDevIssuer, createMemoryStore,
  createPostgresStore, migrate, express,
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
JS

# The consumers run on every Node in SMOKE_NODES (paths of node binaries; default: the one on PATH).
for node_bin in ${SMOKE_NODES:-$(command -v node)}; do
  echo "smoke: consumers on Node $("$node_bin" --version)"
  timeout 60 "$node_bin" smoke.mjs
  timeout 60 "$node_bin" smoke.cjs
done
# The migrate bin as npm linked it: without DATABASE_URL it must refuse with exit code 2.
set +e
DATABASE_URL= ./node_modules/.bin/jit-provision-migrate >/dev/null 2>&1
bin_status=$?
set -e
if [ "$bin_status" != 2 ]; then
  echo "smoke: jit-provision-migrate exited $bin_status without DATABASE_URL (expected 2)" >&2
  exit 1
fi
# The jit-provision CLI as npm linked it: `npx jit-provision --help` answers with exit 0, and a command
# without DATABASE_URL (and no config file) refuses with exit 2, naming the variable.
timeout 60 npx --no-install jit-provision --help | grep -q 'jit-provision invite --csv'
set +e
cli_err="$(DATABASE_URL= timeout 60 npx --no-install jit-provision status 2>&1 >/dev/null)"
cli_status=$?
set -e
if [ "$cli_status" != 2 ] || ! grep -q DATABASE_URL <<<"$cli_err"; then
  echo "smoke: jit-provision status exited $cli_status without DATABASE_URL (expected 2 naming it): $cli_err" >&2
  exit 1
fi
echo "smoke: ok"
