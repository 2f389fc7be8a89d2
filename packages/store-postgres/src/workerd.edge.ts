// store-postgres (pg) inside workerd: a Worker bundled from the built dist/ as Wrangler does with
// `nodejs_compat` (pg's CommonJS `require('events')`… answered from `node:*` imports), run under Miniflare,
// reaching the real server at DATABASE_URL through Miniflare's outbound TCP (pg's own Cloudflare socket,
// `cloudflare:sockets`). Driven from Node; run once by .ci/edge.sh, which sets EDGE_MINIFLARE_DIR.
// No LISTEN: a Worker cannot hold a connection across requests (docs/edge.md, the staleness bound).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASE_URL, type TestDatabase } from './test-support/database';

const dir = process.env['EDGE_MINIFLARE_DIR'];
const here = fileURLToPath(new URL('..', import.meta.url));

const WORKER = `
import { createPostgresStore } from '@jit-provision/store-postgres';
import { createProvisioner } from '@jit-provision/core';
let provisioner;
export default {
  async fetch(request, env) {
    provisioner ??= createProvisioner({
      store: createPostgresStore({ connectionString: env.DATABASE_URL, schema: env.SCHEMA, listen: false }),
      issuers: [{ issuer: 'https://issuer.test', audience: 'api' }],
    });
    const subject = new URL(request.url).searchParams.get('sub');
    const { user, created } = await provisioner.ensureUserExists({ issuer: 'https://issuer.test', subject });
    return Response.json({ created, subject: user.subject, id: user.id });
  },
};`;

/** pg is CommonJS: its `require` of a built-in gets the `node:` module (Wrangler's nodejs_compat does the same). */
const BUILTINS = [
  'events',
  'net',
  'tls',
  'dns',
  'crypto',
  'stream',
  'util',
  'util/types',
  'string_decoder',
  'buffer',
  'path',
  'url',
];
const requireShim = () => {
  const id = (m: string) => `__node_${m.replace('/', '_')}`;
  const imports = BUILTINS.map((m) => `import ${id(m)} from "node:${m}";`).join('');
  const table = BUILTINS.map((m) => `"${m}": ${id(m)}`).join(',');
  // fs and os: pg reads ~/.pgpass only when no password is given and the file exists; workerd has neither.
  return `${imports}const require = (name) => { const k = name.replace(/^node:/, ""); const t = {${table}};
    if (k in t) return t[k]; if (k === "fs" || k === "os") return {}; throw new Error("no built-in " + name); };`;
};

interface Mf {
  ready: Promise<unknown>;
  dispatchFetch(url: string): Promise<{ status: number; json(): Promise<unknown>; text(): Promise<string> }>;
  dispose(): Promise<void>;
}

describe.skipIf(dir === undefined || DATABASE_URL === undefined)('store-postgres (pg) on workerd', () => {
  let db: TestDatabase;
  let mf: Mf;
  beforeAll(async () => {
    db = await createTestDatabase('workerd');
    const root = createRequire(join(here, '../../package.json'));
    const esbuild = createRequire(root.resolve('tsup'))('esbuild') as {
      build(o: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
    };
    const bundle = await esbuild.build({
      stdin: { contents: WORKER, resolveDir: here, loader: 'js' },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      conditions: ['workerd', 'worker'],
      external: ['node:*', 'cloudflare:*', ...BUILTINS, 'fs', 'os'],
      banner: { js: requireShim() },
      // core and store-postgres as installed (dist/), not the sources the repo's tsconfig paths name.
      tsconfigRaw: {},
      logLevel: 'silent',
    });
    const path = createRequire(join(dir as string, 'package.json')).resolve('miniflare');
    const { Miniflare } = (await import(pathToFileURL(path).href)) as { Miniflare: new (o: object) => Mf };
    mf = new Miniflare({
      modules: true,
      script: bundle.outputFiles[0]?.text,
      compatibilityDate: '2025-07-18',
      compatibilityFlags: ['nodejs_compat'],
      bindings: { DATABASE_URL, SCHEMA: db.schema },
    });
    await mf.ready;
  });
  afterAll(async () => {
    await mf?.dispose();
    await db?.close();
  });

  const login = async (sub: string) => {
    const response = await mf.dispatchFetch(`http://worker.test/?sub=${encodeURIComponent(sub)}`);
    if (response.status !== 200) throw new Error(await response.text());
    return (await response.json()) as { created: boolean; subject: string; id: string };
  };

  it('a first login creates the row in Postgres; the returning user finds it', async () => {
    expect(await login('pg-alice')).toMatchObject({ created: true, subject: 'pg-alice' });
    expect(await login('pg-alice')).toMatchObject({ created: false, subject: 'pg-alice' });
    const { rows } = await db.pool.query(
      `SELECT subject FROM "${db.schema}".users WHERE subject = 'pg-alice'`,
    );
    expect(rows).toHaveLength(1);
  });

  // After the first test's requests have ended: a connection they opened, if the pool kept it, would be another
  // request's socket, and workerd cancels the request that uses it (the store's pool uses each connection once).
  it('10 first logins of one user at once: one row, one created, every caller gets it', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => login('pg-race')));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
  });
});
