// The in-process hit path with nothing Node-only: what bench/src/runtimes/run.ts times on Node, Bun, Deno
// and (inside a Worker) workerd. A token and its user are cached by one warm-up call first.
import { createProvisioner } from '@jit-provision/core';
import {
  type AdapterRequest,
  authenticateCachedRequest,
  authenticateRequest,
} from '@jit-provision/core/adapter';
import { createMemoryStore } from '@jit-provision/store-memory';

export interface HitSetup {
  issuer: string;
  audience: string;
  token: string;
}

/** Loops of `n` hits, sync (`authenticateCachedRequest`) or async (`authenticateRequest`, awaited serially). */
export async function hitLoops({ issuer, audience, token }: HitSetup) {
  const provisioner = createProvisioner({ store: createMemoryStore(), issuers: [{ issuer, audience }] });
  // Web headers: what Bun.serve, Deno.serve and workerd hand the Hono adapter.
  const request: AdapterRequest = {
    headers: new Headers({ authorization: `Bearer ${token}`, accept: 'application/json' }),
    path: '/me',
    method: 'GET',
  };
  const warm = await authenticateRequest(provisioner, request, {});
  if (!warm.ok) throw new Error(`warm-up refused: ${JSON.stringify(warm.response.body)}`);
  return {
    sync(n: number): void {
      for (let i = 0; i < n; i++) {
        const outcome = authenticateCachedRequest(provisioner, request, {});
        // The hit must be synchronous here: undefined would mean the adapter falls back to the async path.
        if (outcome === undefined || !outcome.ok) throw new Error('the synchronous hit path missed');
      }
    },
    async async(n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        const outcome = await authenticateRequest(provisioner, request, {});
        if (!outcome.ok) throw new Error('refused');
      }
    },
  };
}

/** µs per call, median of `rounds` timed loops of `n` (after one untimed loop), by `performance.now()`. */
export async function timeHits(setup: HitSetup, n = 100_000, rounds = 7) {
  const loops = await hitLoops(setup);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const sync: number[] = [];
  const async: number[] = [];
  loops.sync(n);
  await loops.async(n);
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    loops.sync(n);
    sync.push(((performance.now() - t) * 1000) / n);
    t = performance.now();
    await loops.async(n);
    async.push(((performance.now() - t) * 1000) / n);
  }
  return { sync: median(sync), async: median(async) };
}
