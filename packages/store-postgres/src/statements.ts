import type { NewUser } from '@jit-provision/core';
import { outboxInsertCte } from './outbox';
import { USER_COLUMNS } from './rows';
import { quoteSchema } from './schema-name';
import type { NameStatement } from './statement-name';

/** Parameters $1–$10 of the insert and confirm statements, in their column order. */
export const userValues = (id: string, input: NewUser) => [
  id,
  input.issuer,
  input.subject,
  input.username,
  input.email ?? null,
  input.name ?? null,
  input.role,
  input.tenantId ?? null,
  input.roleSource ?? 'default',
  input.externalId ?? null,
];

/** See `lookupOrInsert` in {@link userStatements}; `event` is the outbox CTE, or empty. */
const lookupOrInsert = (s: string, event = '') =>
  `WITH found AS (
     SELECT ${USER_COLUMNS} FROM ${s}.users WHERE issuer = $2 AND subject = $3
   ), inserted AS (
     INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role, tenant_id, role_source, last_seen_at)
     SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, now()
     WHERE NOT EXISTS (SELECT 1 FROM found)
     ON CONFLICT DO NOTHING
     RETURNING ${USER_COLUMNS}
   )${event}
   SELECT ${USER_COLUMNS}, false AS created FROM found
   UNION ALL
   SELECT ${USER_COLUMNS}, true FROM inserted`;

/** The statements of the per-login path (lookup, create-if-absent, profile sync), built once per store. */
export function userStatements(schema: string, named: NameStatement) {
  const s = quoteSchema(schema);
  return {
    lookup: {
      ...named('lookup'),
      text: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE issuer = $1 AND subject = $2`,
    },
    getUser: { ...named('get_user'), text: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE id = $1` },
    // No conflict target: every unique index (identity, username, id) arbitrates. With a target, a racer
    // that loses on (issuer, subject) can still fail on the username index it reached first.
    insert: {
      ...named('insert'),
      text: `INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role, tenant_id, role_source, external_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT DO NOTHING
             RETURNING ${USER_COLUMNS}`,
    },
    // The same insert, plus its outbox event in the same statement: the event exists iff the row was created.
    insertWithEvent: {
      ...named('insert_event'),
      text: `WITH inserted AS (
               INSERT INTO ${s}.users (id, issuer, subject, username, email, name, role, tenant_id, role_source, external_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT DO NOTHING
               RETURNING ${USER_COLUMNS}
             ), ${outboxInsertCte(schema, 'inserted', 11)}
             SELECT ${USER_COLUMNS} FROM inserted`,
    },
    // A login's lookup and create-if-absent in one round trip. The SELECT comes first, so an existing user
    // (every login after the first) pays a skipped INSERT, never a speculative one. Parameters are those of
    // `insert` without external_id ($10 and $11: the event's identity and actor). Both CTEs read the
    // statement's snapshot: a racer that commits after it makes the INSERT do nothing and `found` empty, so
    // no row comes back and the caller reads again (a new statement, a new snapshot). The row is a login's, so
    // it is seen as it is created: no separate lastSeen write (a second commit) follows.
    lookupOrInsert: { ...named('lookup_insert'), text: lookupOrInsert(s) },
    lookupOrInsertWithEvent: {
      ...named('lookup_insert_event'),
      text: lookupOrInsert(s, `, ${outboxInsertCte(schema, 'inserted', 10)}`),
    },
    sync: {
      ...named('sync'),
      text: `UPDATE ${s}.users SET
               email = CASE WHEN $2::boolean THEN $3::text ELSE email END,
               name = CASE WHEN $4::boolean THEN $5::text ELSE name END,
               updated_at = CASE
                 WHEN ($2::boolean AND $3::text IS DISTINCT FROM email) OR ($4::boolean AND $5::text IS DISTINCT FROM name)
                 THEN now() ELSE updated_at END
             WHERE id = $1
             RETURNING ${USER_COLUMNS}`,
    },
  } as const;
}

export type UserStatements = ReturnType<typeof userStatements>;
