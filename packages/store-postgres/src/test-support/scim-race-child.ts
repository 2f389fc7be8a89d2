/**
 * One app process of the SCIM race (run with tsx, like race-child.ts): prints `ready`, waits for `go`, then
 * fires RACE_CALLS parallel calls over RACE_IDENTITIES people, each call either a SCIM create (no subject
 * yet, as from Entra ID) or a first login carrying the person's externalId, and prints one JSON line.
 */
import { createInterface } from 'node:readline';
import { createPostgresStore } from '../index';
import { env } from './child-env';

const store = createPostgresStore({
  connectionString: env('DATABASE_URL'),
  poolConfig: { max: 5 },
  schema: env('RACE_SCHEMA'),
  listen: false,
});
const calls = Number(env('RACE_CALLS'));
const identities = Number(env('RACE_IDENTITIES'));
const issuer = env('RACE_ISSUER');
const offset = Number(env('RACE_PROCESS'));

await Promise.all(Array.from({ length: 5 }, () => store.lookup({ issuer, subject: 'warm-up' })));
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();

const identity = (person: number) => ({
  issuer,
  subject: `sub-${person}`,
  email: null,
  name: null,
  tenantId: null,
  claims: {},
});

async function call(i: number) {
  const person = i % identities;
  const externalId = `oid-${person}`;
  if ((i + offset) % 2 === 0) {
    const { record, created } = await store.scim.createUser({
      issuer,
      subject: null,
      username: `scim:${externalId}`,
      role: 'user',
      userName: `person-${person}@example.com`,
      externalId,
      attributes: { displayName: `Person ${person}` },
      email: `person-${person}@example.com`,
      name: `Person ${person}`,
      emitEvent: { identity: identity(person), actor: 'scim' },
    });
    return { kind: 'scim', person, id: record.user.id, created };
  }
  const { user, created } = await store.upsert({
    issuer,
    subject: `sub-${person}`,
    username: `oidc:race:sub-${person}`,
    role: 'user',
    externalId,
    emitEvent: { identity: identity(person) },
  });
  return { kind: 'login', person, id: user.id, created };
}

const settled = await Promise.allSettled(Array.from({ length: calls }, (_, i) => call(i)));
const results = settled.map((s, i) =>
  s.status === 'fulfilled'
    ? s.value
    : {
        kind: (i + offset) % 2 === 0 ? 'scim' : 'login',
        person: i % identities,
        error: String((s.reason as { code?: string }).code ?? s.reason),
        attribute: (s.reason as { attribute?: string }).attribute,
      },
);
process.stdout.write(`${JSON.stringify(results)}\n`);
await store.close();
