import { InvalidRequestError, isJitProvisionError, StoreUnavailableError } from '@jit-provision/core';

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

// node-postgres raises these without a code: pool checkout timeouts and sockets that died under a query.
const CONNECTION_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|connection timeout|client has encountered a connection error|client was closed|not queryable|cannot use a pool after calling end/i;

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
 * Turn anything a query threw into a core error: ours pass through, bad input (SQLSTATE class 22) is an
 * invalid request, and everything else — outages and unexpected database errors alike — is
 * `StoreUnavailableError`, so callers never see a raw driver error.
 */
export function toStoreError(error: unknown): Error {
  if (isJitProvisionError(error)) return error;
  if (sqlState(error)?.startsWith('22') === true) {
    return new InvalidRequestError('a value was refused by the database');
  }
  return new StoreUnavailableError(
    isConnectionError(error) ? 'the user database is unreachable' : 'the user database failed',
    { cause: error },
  );
}

/** Run one store operation and let only core errors out of it (see {@link toStoreError}). */
export async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toStoreError(error);
  }
}
