import { ConfigurationError } from '@jit-provision/core';

/**
 * The schema every table lives in unless `schema` says otherwise: kept apart from the app's own `users`.
 *
 * @example
 * ```ts
 * await pool.query(`SELECT count(*) FROM ${DEFAULT_SCHEMA}.users`);
 * ```
 */
export const DEFAULT_SCHEMA = 'jit_provision';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/i;

/**
 * Validate a schema name and return it double-quoted for SQL. Identifiers cannot be bound as parameters,
 * so this allow-list is what keeps them out of injection's reach.
 *
 * @example
 * ```ts
 * quoteSchema('jit_provision'); // '"jit_provision"'
 * quoteSchema('x; drop table users'); // throws ConfigurationError
 * ```
 */
export function quoteSchema(schema: string = DEFAULT_SCHEMA): string {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) {
    throw new ConfigurationError(`invalid Postgres schema name: ${JSON.stringify(schema)}`);
  }
  return `"${schema}"`;
}
