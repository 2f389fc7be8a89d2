// store-postgres (pg) on Bun and Deno against the real server: the conformance kit and the LISTEN/NOTIFY
// tests, unchanged, imported here so that .ci/edge.sh runs them with vitest inside each runtime
// (vitest.edge.config.ts). Needs DATABASE_URL, as in `pnpm test`.
import { describe, expect, it } from 'vitest';
import './conformance.test';
import './changes.test';

const g = globalThis as { Bun?: unknown; Deno?: unknown };
const runtime = g.Bun !== undefined ? 'bun' : g.Deno !== undefined ? 'deno' : 'node';

describe(`store-postgres on ${runtime}`, () => {
  it('runs in the runtime .ci/edge.sh asked for, against a real server', () => {
    const expected = process.env['EDGE_RUNTIME'];
    if (expected !== undefined) expect(runtime).toBe(expected);
    if (expected !== undefined) expect(process.env['DATABASE_URL']).toBeDefined();
  });
});
