/**
 * A running app process for the CLI tests (run with tsx by `startApp` in harness.ts): a provisioner with its
 * user cache on against the test's schema, with a 10-minute TTL so that only store-postgres's change feed
 * (LISTEN/NOTIFY) can make it see a change made by the CLI in time. Answers JSON lines on stdin:
 * - `{ op: 'watch', expect }`: wait until the user is served from the cache (the stale state every change
 *   starts from), answer `{ watching: true }`, then call `ensureUserExists` every millisecond until the result
 *   matches `expect` (user fields, or `{ error: code }`) and answer `{ seenAt, path }`.
 * - `{ op: 'exit' }`: close and exit.
 */
import { createInterface } from 'node:readline';
import { createProvisioner } from '@jit-provision/core';
import { createPostgresStore } from '@jit-provision/store-postgres';

const need = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const store = createPostgresStore({
  connectionString: need('DATABASE_URL'),
  schema: need('JIT_PROVISION_SCHEMA'),
  poolConfig: { max: 2 },
});
const provisioner = createProvisioner({ store, userCache: { ttlMs: 600_000 }, lastSeen: false });
const identity = { issuer: need('APP_ISSUER'), subject: need('APP_SUBJECT') };
/** Wall clock with sub-millisecond resolution, comparable with the database's on one machine. */
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

async function watch(expect: Record<string, unknown>): Promise<void> {
  // A cache hit also means the change feed is up: the cache is bypassed while it is not.
  while ((await observe()).path !== 'cache') await tick();
  reply({ watching: true });
  for (;;) {
    const seen = await observe();
    if (Object.entries(expect).every(([key, value]) => seen.fields[key] === value)) {
      reply({ seenAt: clock(), path: seen.path, fields: seen.fields });
      return;
    }
    await tick();
  }
}

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line) as { op: string; expect?: Record<string, unknown> };
  if (command.op === 'exit') break;
  if (command.op === 'watch') await watch(command.expect ?? {});
}
lines.close();
await provisioner.close();
await store.close();
