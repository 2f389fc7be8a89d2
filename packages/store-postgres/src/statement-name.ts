import { createHash } from 'node:crypto';

/**
 * A prepared-statement name unique per (operation, schema). Prepared statements live per connection and
 * one pool may serve stores on several schemas, so the schema is part of the name; Postgres keeps only
 * 63 bytes of a name, so long ones are shortened with a hash instead of being cut (and colliding).
 */
export function statementName(operation: string, schema: string): string {
  const plain = `jitp_${operation}_${schema}`;
  if (plain.length <= 63) return plain;
  return `jitp_${operation}_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}
