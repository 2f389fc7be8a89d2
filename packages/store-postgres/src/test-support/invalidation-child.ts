/**
 * One app process of the cross-instance invalidation fleet (run with tsx by `invalidation-fleet.ts`).
 * Holds a provisioner with its user cache on (TTL 10 minutes, so only the change feed can make it see a
 * change in time) and answers JSON lines on stdin:
 * - `{ op: 'watch', i, expect }`: wait until the user is served from the cache (the stale state every
 *   change starts from; for a disabled user, whose refusals are cached too: refused as the previous change
 *   expected), answer `{ i, watching: true }`, then call `ensureUserExists` every millisecond
 *   until the result matches `expect` (user fields, or `{ error: code }`) and answer `{ i, seenAt, path }`.
 * - `{ op: 'exit' }`: close and exit.
 */
import { createInterface } from 'node:readline';
import { createProvisioner } from '@jit-provision/core';
import { createPostgresStore } from '../index';
import { env } from './child-env';

const store = createPostgresStore({
  connectionString: env('DATABASE_URL'),
  poolConfig: { max: 2 },
  schema: env('FLEET_SCHEMA'),
});
const provisioner = createProvisioner({ store, userCache: { ttlMs: 600_000 } });
const identity = { issuer: env('FLEET_ISSUER'), subject: env('FLEET_SUBJECT') };
/** Wall clock with sub-millisecond resolution, comparable across processes on one machine. */
const clock = () => performance.timeOrigin + performance.now();
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function observe(): Promise<{ path: string | null; fields: Record<string, unknown> }> {
  try {
    const { user, path } = await provisioner.ensureUserExists(identity);
    return { path, fields: { ...user } };
  } catch (err) {
    return { path: null, fields: { error: (err as { code?: string }).code ?? String(err) } };
  }
}

const matches = (fields: Record<string, unknown>, expect: Record<string, unknown>) =>
  Object.entries(expect).every(([key, value]) => fields[key] === value);

/** What the previous change made every process see: the state the next change starts from. */
let previous: Record<string, unknown> | undefined;

const stale = (seen: { path: string | null; fields: Record<string, unknown> }) =>
  seen.path === 'cache' ||
  (seen.path === null && previous !== undefined && 'error' in previous && matches(seen.fields, previous));

async function watch(i: number, expect: Record<string, unknown>): Promise<void> {
  while (!stale(await observe())) await tick();
  previous = expect;
  reply({ i, watching: true });
  for (;;) {
    const seen = await observe();
    if (matches(seen.fields, expect)) {
      reply({ i, seenAt: clock(), path: seen.path });
      return;
    }
    await tick();
  }
}

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line) as { op: string; i?: number; expect?: Record<string, unknown> };
  if (command.op === 'exit') break;
  if (command.op === 'watch') await watch(command.i ?? 0, command.expect ?? {});
}
lines.close();
await provisioner.close();
await store.close();
