// `bun bench/src/runtimes/cli.ts` / `deno run -A bench/src/runtimes/cli.ts`: reads the setup from HIT_SETUP
// (JSON), prints the timings as JSON. Started by run.ts.
import { timeHits } from './hit';

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
console.log(JSON.stringify(await timeHits(JSON.parse(env['HIT_SETUP'] ?? '{}'))));
