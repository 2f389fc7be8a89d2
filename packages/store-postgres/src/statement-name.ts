import { createHash } from 'node:crypto';

// Postgres keeps only the first 63 bytes of a name (NAMEDATALEN - 1).
const MAX_NAME_BYTES = 63;

/**
 * A prepared-statement name unique per (operation, schema). Prepared statements live per connection and
 * one pool may serve stores on several schemas, so the schema is part of the name. The name must be
 * injective: `_` joins words in both operations and schemas, so `insert` + `event_x` and `insert_event` +
 * `x` must not meet. `:` cannot appear in either (schemas are identifiers, operations are ours), so
 * `jitp:<operation>:<schema>` splits one way only. Names past 63 bytes would be cut (and could collide),
 * so those become `jitp#<operation>#<hash of the schema>`: the `#` keeps them apart from the plain form.
 */
export function statementName(operation: string, schema: string): string {
  const plain = `jitp:${operation}:${schema}`;
  if (Buffer.byteLength(plain) <= MAX_NAME_BYTES) return plain;
  return `jitp#${operation}#${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

/** `{ name }` for a statement the store prepares, or `{}` when prepared statements are off (PgBouncer, PGlite). */
export type NameStatement = (operation: string) => { name?: string };

export const statementNamer =
  (prepared: boolean, schema: string): NameStatement =>
  (operation) =>
    prepared ? { name: statementName(operation, schema) } : {};
