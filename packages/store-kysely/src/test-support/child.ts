/**
 * One app process of the multi-process tests (run with tsx by `runTs`). Opens the engine `ENGINE*` names,
 * prints `ready`, then runs its scenario:
 * - race: waits for `go` on stdin, fires RACE_CALLS parallel first logins over RACE_IDENTITIES identities,
 *   prints one JSON line of results.
 * - scim-race: waits for `go`, fires RACE_CALLS parallel calls over RACE_IDENTITIES people of RACE_ISSUER,
 *   half `scim.createUser`, half a first login's `upsert` with the same externalId; one JSON line of results.
 * - reserve-then-hang: createUser mode; the app's createUser never returns (SIGKILL → orphaned reservation).
 * - jti-race: waits for `go`, claims one logout-token jti (JTI_ISSUER, JTI) RACE_CALLS times in parallel,
 *   prints one JSON line: how many claims this process won.
 * - watch: follows the change feed; prints `seen <userId> <ms since epoch>` for each change (bench) and
 *   `sid <sid>` for each revoked session.
 */
import { createInterface } from 'node:readline';
import { createProvisioner } from '@jit-provision/core';
import { createKyselyStore } from '../index';
import { env } from './child-env';
import { openEngine } from './engines';

const db = openEngine(process.env, 5);
const store = createKyselyStore({ db, changes: { pollMs: Number(process.env['POLL_MS'] ?? 500) } });
const signal = (line: string) => process.stdout.write(`${line}\n`);
const never = () => new Promise<never>(() => {});
const logger = {
  warn: () => {},
  error: (obj: Record<string, unknown>, msg?: string) => console.error(msg, obj),
};

async function race(): Promise<void> {
  const provisioner = createProvisioner({ store, userCache: false, tokenCache: false, logger });
  const calls = Number(env('RACE_CALLS'));
  const identities = Number(env('RACE_IDENTITIES'));
  const issuer = env('RACE_ISSUER');
  // Open the pool's connections before the start signal, so the race is about SQL, not connecting.
  await Promise.all(Array.from({ length: 5 }, () => store.lookup({ issuer, subject: 'warm-up' })));
  signal('ready');
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
  signal(JSON.stringify(results));
  await store.close();
  await db.destroy();
}

/** Wait for `go` on stdin (after `ready`), so every process starts its burst at once. */
async function startSignal(): Promise<void> {
  signal('ready');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim() === 'go') break;
  lines.close();
}

async function scimRace(): Promise<void> {
  const issuer = env('RACE_ISSUER');
  const people = Number(env('RACE_IDENTITIES'));
  const tag = issuer.replace(/\W/g, '');
  await Promise.all(Array.from({ length: 5 }, () => store.lookup({ issuer, subject: 'warm-up' })));
  await startSignal();
  const settled = await Promise.allSettled(
    Array.from({ length: Number(env('RACE_CALLS')) }, async (_, i) => {
      // Neighbouring calls are one person's SCIM create and first login.
      const person = Math.floor(i / 2) % people;
      const externalId = `ext-${person}`;
      if (i % 2 === 0) {
        const { record, created } = await store.scim.createUser({
          issuer,
          subject: null,
          userName: `p${person}@example.com`,
          externalId,
          attributes: { displayName: `P ${person}` },
          email: `p${person}@example.com`,
          name: null,
          username: `scim:${tag}:${person}`,
          role: 'user',
        });
        return { person, id: record.user.id, created };
      }
      const subject = `racer-${person}`;
      const { user, created } = await store.upsert({
        issuer,
        subject,
        username: `oidc:${tag}:${person}`,
        role: 'user',
        externalId,
      });
      return { person, id: user.id, created };
    }),
  );
  const results = settled.map((s) =>
    s.status === 'fulfilled' ? s.value : { error: String((s.reason as { code?: string }).code ?? s.reason) },
  );
  signal(JSON.stringify(results));
  await store.close();
  await db.destroy();
}

async function jtiRace(): Promise<void> {
  const issuer = env('JTI_ISSUER');
  const jti = env('JTI');
  // Warm the pool, so the race is about SQL, not connecting.
  await Promise.all(Array.from({ length: 5 }, () => store.logout.isSidRevoked(issuer, 'warm-up')));
  signal('ready');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim() === 'go') break;
  lines.close();
  const expiresAt = new Date(Date.now() + 600_000);
  const settled = await Promise.allSettled(
    Array.from({ length: Number(env('RACE_CALLS')) }, () => store.logout.claimJti(issuer, jti, expiresAt)),
  );
  const errors = settled.flatMap((s) =>
    s.status === 'rejected' ? [String((s.reason as { code?: string }).code ?? s.reason)] : [],
  );
  const won = settled.filter((s) => s.status === 'fulfilled' && s.value).length;
  signal(JSON.stringify({ won, errors }));
  await store.close();
  await db.destroy();
}

async function main(): Promise<void> {
  switch (process.argv[2]) {
    case 'race':
      return race();
    case 'jti-race':
      return jtiRace();
    case 'scim-race':
      return scimRace();
    case 'reserve-then-hang': {
      const provisioner = createProvisioner({
        store,
        userCache: false,
        tokenCache: false,
        logger,
        reservation: { leaseMs: Number(env('CRASH_LEASE_MS')) },
        createUser: async () => {
          signal('RESERVED');
          return never();
        },
      });
      await provisioner.ensureUserExists({ issuer: env('CRASH_ISSUER'), subject: env('CRASH_SUBJECT') });
      return;
    }
    case 'watch': {
      await store.changes?.subscribe((change) => signal(`seen ${change.userId} ${Date.now()}`), {
        onStatus: (status) => signal(status),
        onSessionRevoked: (session) => signal(`sid ${session.sid}`),
      });
      // The feed's timer is unref'd and a SQLite file holds no socket: without this the process would end.
      setInterval(() => {}, 60_000);
      return never();
    }
    default:
      throw new Error(`unknown scenario ${process.argv[2]}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
