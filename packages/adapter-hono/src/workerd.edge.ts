// The adapter and guard kits against a Hono app inside workerd (Miniflare, `nodejs_compat`): workerd/kits-worker.mjs
// bundles the kits with the BUILT adapter-hono, core and store-memory into one Worker; this file (vitest on
// Node) asks it for its case names and runs each one through `dispatchFetch`, so a failure shows here under
// the case's own name. The issuers are real createDevIssuer instances here, on loopback: the Worker mints
// through a loopback bridge (workerd/dev-shim.mjs) and its provisioner fetches their JWKS over Miniflare's
// outbound network. Run once by .ci/edge.sh (EDGE_RUNTIME=workerd, EDGE_MINIFLARE_DIR: the pinned miniflare).
// The hostile-input kit's table runs beside them in workerd-hostile.edge.ts (its suite listens with node:http).
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { afterAll, describe, expect, it } from 'vitest';

interface MiniflareLike {
  ready: Promise<unknown>;
  dispatchFetch(url: string, init?: { method?: string }): Promise<{ json(): Promise<unknown> }>;
  dispose(): Promise<void>;
}
type MiniflareClass = new (options: Record<string, unknown>) => MiniflareLike;
interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
}
type Plugin = {
  name: string;
  setup(build: { onResolve(filter: { filter: RegExp }, fn: () => { path: string }): void }): void;
};

const dir = process.env['EDGE_MINIFLARE_DIR'];
const enabled = process.env['EDGE_RUNTIME'] === 'workerd' && dir !== undefined;
const here = fileURLToPath(new URL('.', import.meta.url));
const root = createRequire(join(here, '../../../package.json'));

/** The kits' Worker as one ES module, `vitest` and `@jit-provision/core/dev` swapped for the shims. */
async function bundle(): Promise<string> {
  const esbuild = createRequire(root.resolve('tsup'))('esbuild') as EsbuildLike;
  // @vitest/expect is vitest's own dependency: take the copy vitest runs with.
  const vitestExpect = createRequire(root.resolve('vitest/package.json')).resolve('@vitest/expect');
  const swap = (filter: RegExp, path: string): Plugin => ({
    name: `swap ${filter}`,
    setup: (build) => build.onResolve({ filter }, () => ({ path })),
  });
  const result = await esbuild.build({
    entryPoints: [join(here, 'workerd/kits-worker.mjs')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    external: ['node:*'],
    tsconfigRaw: {},
    logLevel: 'silent',
    plugins: [
      swap(/^vitest$/, join(here, 'workerd/vitest-shim.mjs')),
      swap(/^@jit-provision\/core\/dev$/, join(here, 'workerd/dev-shim.mjs')),
      swap(/^@vitest\/expect$/, vitestExpect),
    ],
  });
  return result.outputFiles[0]?.text ?? '';
}

interface BridgeBody {
  id: string;
  ids: string[];
  options: never;
  claims: never;
  alg: never;
  kid: never;
}

/** The Node side of workerd/dev-shim.mjs: real issuers on loopback, driven over loopback HTTP. */
async function startBridge(): Promise<{ url: string; close(): Promise<void> }> {
  const issuers = new Map<string, DevIssuer>();
  let next = 0;
  const view = (id: string, issuer: DevIssuer) => ({
    id,
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    currentKid: issuer.currentKid,
    jwksHits: issuer.jwksHits,
    discoveryHits: issuer.discoveryHits,
    jwks: issuer.jwks(),
  });
  // The shim sends what it was given; `never` passes each straight on to the DevIssuer's own parameter types.
  const ops: Record<string, (body: BridgeBody) => Promise<unknown>> = {
    async create({ options }) {
      const id = String(++next);
      const issuer = await createDevIssuer(options);
      issuers.set(id, issuer);
      return view(id, issuer);
    },
    async mint({ id, claims, options }) {
      const issuer = issuers.get(id) as DevIssuer;
      return { ...view(id, issuer), token: await issuer.mint(claims, options) };
    },
    async rotate({ id, alg }) {
      const issuer = issuers.get(id) as DevIssuer;
      await issuer.rotateKeys(alg);
      return view(id, issuer);
    },
    async pem({ id, kid }) {
      const issuer = issuers.get(id) as DevIssuer;
      return { ...view(id, issuer), pem: await issuer.publicKeyPem(kid) };
    },
    async hits({ ids }) {
      return { hits: Object.fromEntries(ids.map((id) => [id, issuers.get(id)?.jwksHits ?? 0])) };
    },
    async close({ id }) {
      await issuers.get(id)?.close();
      issuers.delete(id);
      return {};
    },
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', async () => {
      const op = ops[(req.url ?? '').slice(1)];
      try {
        if (op === undefined) throw new Error(`no op ${req.url}`);
        const result = await op(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      } catch (err) {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: String(err) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await Promise.all([...issuers.values()].map((issuer) => issuer.close()));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function start(): Promise<{ mf: MiniflareLike; bridge: { close(): Promise<void> }; names: string[] }> {
  const [code, bridge] = await Promise.all([bundle(), startBridge()]);
  const path = createRequire(join(dir as string, 'package.json')).resolve('miniflare');
  const { Miniflare } = (await import(pathToFileURL(path).href)) as { Miniflare: MiniflareClass };
  const mf = new Miniflare({
    modules: true,
    script: code,
    compatibilityDate: '2025-07-18',
    compatibilityFlags: ['nodejs_compat'],
    bindings: { BRIDGE_URL: bridge.url },
  });
  await mf.ready;
  const names = (await (await mf.dispatchFetch('http://kits.test/cases')).json()) as string[];
  return { mf, bridge, names };
}

const started = enabled ? await start() : undefined;

describe.skipIf(started === undefined)('the adapter and guard kits, Hono inside workerd (Miniflare)', () => {
  afterAll(async () => {
    try {
      await started?.mf.dispatchFetch('http://kits.test/finish', { method: 'POST' });
    } finally {
      await started?.mf.dispose();
      await started?.bridge.close();
    }
  });

  it('the Worker registered both kits', () => {
    const names = started?.names ?? [];
    expect(names.filter((n) => n.startsWith('adapter suite: hono on workerd')).length).toBeGreaterThan(20);
    expect(names.filter((n) => n.startsWith('guard suite: hono on workerd')).length).toBeGreaterThan(20);
  });

  for (const name of started?.names ?? []) {
    it(name, async () => {
      const mf = started?.mf as MiniflareLike;
      const url = `http://kits.test/run?name=${encodeURIComponent(name)}`;
      const result = (await (await mf.dispatchFetch(url, { method: 'POST' })).json()) as {
        ok: boolean;
        error?: string;
      };
      if (!result.ok) throw new Error(result.error);
    });
  }
});
