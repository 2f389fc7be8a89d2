/**
 * One app process of the multi-process race (run with tsx; vitest aliases do not apply here, so sources
 * are imported by path and `@jit-provision/core` through the tsconfig paths tsx is given).
 * Connects its own pool, prints `ready`, waits for `go` on stdin so every process starts at once, then
 * fires RACE_CALLS parallel first logins over RACE_IDENTITIES identities and prints one JSON line.
 */
import { createInterface } from 'node:readline';
import { createProvisioner } from '@jit-provision/core';
import { createPostgresStore } from '../index';
import { env } from './child-env';

const store = createPostgresStore({
  connectionString: env('DATABASE_URL'),
  poolConfig: { max: 5 },
  schema: env('RACE_SCHEMA'),
});
// RACE_OUTBOX=1: outbox mode, so each creation also writes its user.provisioned event (no local hooks, so
// no dispatcher here: the events stay in the table for the test to count).
const provisioner = createProvisioner({
  store,
  userCache: false,
  tokenCache: false,
  ...(process.env['RACE_OUTBOX'] === '1' ? { hookDelivery: 'outbox' as const } : {}),
});
const calls = Number(env('RACE_CALLS'));
const identities = Number(env('RACE_IDENTITIES'));
const issuer = env('RACE_ISSUER');

// Open the pool's connections before the start signal, so the race is about SQL, not connecting.
await Promise.all(Array.from({ length: 5 }, () => store.lookup({ issuer, subject: 'warm-up' })));
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();

const settled = await Promise.allSettled(
  Array.from({ length: calls }, (_, i) =>
    provisioner.ensureUserExists({
      issuer,
      subject: `racer-${i % identities}`,
      email: `r${i % identities}@example.com`,
    }),
  ),
);
const results = settled.map((s) =>
  s.status === 'fulfilled'
    ? { subject: s.value.user.subject, id: s.value.user.id, created: s.value.created }
    : { error: String((s.reason as { code?: string }).code ?? s.reason) },
);
process.stdout.write(`${JSON.stringify(results)}\n`);
await store.close();
