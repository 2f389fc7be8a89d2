// The hit loops inside a Worker: workerd's clock does not move during a CPU loop, so run.ts times each
// request from outside and subtracts an empty one. `?mode=sync|async&n=`.
import { type HitSetup, hitLoops } from './hit';

let loops: ReturnType<typeof hitLoops> | undefined;

export default {
  async fetch(request: Request, env: { HIT_SETUP: string }): Promise<Response> {
    loops ??= hitLoops(JSON.parse(env.HIT_SETUP) as HitSetup);
    const ready = await loops;
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') ?? 0);
    if (url.searchParams.get('mode') === 'sync') ready.sync(n);
    else await ready.async(n);
    return new Response('ok');
  },
};
