import {
  InvalidRequestError,
  isJitProvisionError,
  StoreUnavailableError,
  type StoreUnavailableReason,
} from '@jit-provision/core';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

// The schema, a table or a column the store needs is missing: `migrate` was not run (or not to this version).
const SCHEMA_CODES = new Set([
  '3F000', // invalid_schema_name
  '42P01', // undefined_table
  '42703', // undefined_column
]);

// node-postgres raises these without a code: pool checkout timeouts, sockets that died under a query, and
// `query_timeout` ("Query read timeout"): the query is still in flight on a backend that may be frozen, so
// that client is broken too. Pooled again, it would fail every later query that draws it.
const CONNECTION_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|connection timeout|client has encountered a connection error|client was closed|not queryable|cannot use a pool after calling end|query read timeout/i;

/** The SQLSTATE of a pg error, or undefined. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when the error means the connection, not the statement, failed: safe to retry an idempotent read
 * on a fresh connection, and the client must not go back to the pool.
 */
export function isConnectionError(error: unknown): boolean {
  if (isJitProvisionError(error)) return false;
  const code = sqlState(error);
  if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

/**
 * Why a driver error makes the store unavailable. The one mapping from SQLSTATEs to
 * {@link StoreUnavailableReason}s: core logs the hint for it ("schema not migrated: run jit-provision-migrate").
 */
export function unavailableReason(error: unknown): StoreUnavailableReason {
  if (isConnectionError(error)) return 'unreachable';
  const code = sqlState(error);
  return code !== undefined && SCHEMA_CODES.has(code) ? 'schema_not_migrated' : 'failed';
}

// What the client reads (503 body): a missing schema is the operator's business, told in the server log.
const UNAVAILABLE_MESSAGES: Record<StoreUnavailableReason, string> = {
  unreachable: 'the user database is unreachable',
  schema_not_migrated: 'the user database failed',
  failed: 'the user database failed',
  // Never produced by this store (core raises it for an introspection endpoint); here for the record's sake.
  provider_unavailable: 'the user database failed',
};

/**
 * Turn anything a query threw into a core error: ours pass through, bad input (SQLSTATE class 22) is an
 * invalid request, and everything else — outages and unexpected database errors alike — is
 * `StoreUnavailableError`, so callers never see a raw driver error.
 */
export function toStoreError(error: unknown): Error {
  if (isJitProvisionError(error)) return error;
  if (sqlState(error)?.startsWith('22') === true) {
    return new InvalidRequestError('a value was refused by the database');
  }
  const reason = unavailableReason(error);
  return new StoreUnavailableError(UNAVAILABLE_MESSAGES[reason], { cause: error, reason });
}

/** Run one store operation and let only core errors out of it (see {@link toStoreError}). */
export async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toStoreError(error);
  }
}
