import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// What an app gets from npm: the packed tarballs of this package and core (as `pnpm pack` writes them, with
// `workspace:` ranges replaced), unpacked into a bare node_modules beside their real dependencies, loaded by
// plain Node as ESM and as CommonJS, on a SQLite file.

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const KYSELY_PKG = join(PACKAGES, 'store-kysely');
const CORE_PKG = join(PACKAGES, 'core');

// The newest source that goes into dist (tests and their support do not).
const newest = (dir: string): number =>
  Math.max(
    0,
    ...readdirSync(dir)
      .filter((name) => name !== 'test-support' && !name.includes('.test'))
      .map((name) => {
        const path = join(dir, name);
        const stat = statSync(path);
        return stat.isDirectory() ? newest(path) : stat.mtimeMs;
      }),
  );
// A build older than the sources would test yesterday's code: skipped then, as core's surface test does.
const built = (pkg: string) =>
  existsSync(join(pkg, 'dist/index.js')) &&
  statSync(join(pkg, 'dist/index.js')).mtimeMs >= newest(join(pkg, 'src'));
const fresh = built(KYSELY_PKG) && built(CORE_PKG);

// pnpm links each package's dependencies into its own node_modules (kysely's exports hide its package.json).
const packageDir = (from: string, name: string) => realpathSync(join(from, 'node_modules', name));

const SMOKE = (load: string) => `${load}
const file = process.argv[2];
const db = new Kysely({ dialect: new SqliteDialect({ database: new Database(file) }) });
(async () => {
  const applied = await migrate(db);
  const store = createKyselyStore({ db, changes: false });
  // An issuer taking back-channel logout is accepted: the store has the logout part.
  createProvisioner({ store, issuers: [{ issuer: 'https://i.test', audience: 'api', backchannelLogout: { clientId: 'api' } }] });
  const { user, created } = await store.upsert({
    issuer: 'https://i.test', subject: 's', username: 'oidc:i:s', role: 'user', externalId: 'e1',
  });
  const until = new Date(Date.now() + 60_000);
  const first = await store.logout.claimJti('https://i.test', 'j1', until);
  const replay = await store.logout.claimJti('https://i.test', 'j1', until);
  await store.close();
  await db.destroy();
  console.log(JSON.stringify({ applied, created, externalId: user.externalId, first, replay }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe.skipIf(!fresh)(
  `packed @jit-provision/store-kysely${fresh ? '' : ' (skipped: dist absent or older than src; run pnpm build)'}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'jp-packed-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('installs from its tarball and runs as ESM and as CommonJS on SQLite (migrate, upsert, logout)', () => {
      const modules = join(dir, 'node_modules');
      const unpack = (pkg: string, name: string) => {
        const before = new Set(readdirSync(dir));
        execFileSync('pnpm', ['pack', '--pack-destination', dir], { cwd: pkg, stdio: 'ignore' });
        const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz') && !before.has(f)) as string;
        const files = execFileSync('tar', ['-tzf', join(dir, tarball)], { encoding: 'utf8' })
          .trim()
          .split('\n');
        // `files: ["dist"]`: no sources, tests or test support in what users download.
        expect(
          files.filter((f) => !/^package\/(dist\/|package\.json$|README\.md$|LICENSE$)/.test(f)),
        ).toEqual([]);
        const target = join(modules, name);
        mkdirSync(target, { recursive: true });
        execFileSync('tar', ['-xzf', join(dir, tarball), '-C', target, '--strip-components=1']);
      };
      unpack(CORE_PKG, '@jit-provision/core');
      unpack(KYSELY_PKG, '@jit-provision/store-kysely');
      // The third-party dependencies, from the workspace's install (resolved by their real paths).
      for (const [from, name] of [
        [KYSELY_PKG, 'kysely'],
        [KYSELY_PKG, 'better-sqlite3'],
        [CORE_PKG, 'jose'],
      ] as const)
        symlinkSync(packageDir(from, name), join(modules, name), 'dir');

      writeFileSync(
        join(dir, 'smoke.mjs'),
        SMOKE(`import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createProvisioner } from '@jit-provision/core';
import { createKyselyStore, migrate } from '@jit-provision/store-kysely';`),
      );
      writeFileSync(
        join(dir, 'smoke.cjs'),
        SMOKE(`const Database = require('better-sqlite3');
const { Kysely, SqliteDialect } = require('kysely');
const { createProvisioner } = require('@jit-provision/core');
const { createKyselyStore, migrate } = require('@jit-provision/store-kysely');`),
      );
      for (const script of ['smoke.mjs', 'smoke.cjs']) {
        const out = execFileSync(process.execPath, [script, join(dir, `${script}.db`)], {
          cwd: dir,
          encoding: 'utf8',
          env: { PATH: process.env['PATH'] ?? '' },
        });
        expect(JSON.parse(out.trim().split('\n').at(-1) as string)).toEqual({
          applied: [
            '0001_users_reservations_invitations_outbox_changes',
            '0002_logout_external_id',
            '0003_scim',
          ],
          created: true,
          externalId: 'e1',
          first: true,
          replay: false,
        });
      }
    }, 60_000);
  },
);
