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
