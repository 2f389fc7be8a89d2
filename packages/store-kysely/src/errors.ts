import { isJitProvisionError, StoreUnavailableError, type StoreUnavailableReason } from '@jit-provision/core';

// Driver codes meaning the connection, not the statement, failed (mysql2, node-postgres, better-sqlite3).
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'SQLITE_CANTOPEN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

// The tables are missing: `migrate` was not run.
const SCHEMA_CODES = new Set(['ER_NO_SUCH_TABLE', 'ER_BAD_FIELD_ERROR', '42P01', '42703']);

// Lock conflicts the engine resolves by aborting one transaction: safe to run the transaction again.
const RETRY_CODES = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', '40001', '40P01', 'SQLITE_BUSY']);

export const driverCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

export const isRetryable = (error: unknown): boolean => RETRY_CODES.has(driverCode(error) ?? '');

/** A unique-constraint violation on any engine. */
export const isUniqueViolation = (error: unknown): boolean => {
  const code = driverCode(error);
  return (
    code === 'ER_DUP_ENTRY' ||
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
};

function reasonOf(error: unknown): StoreUnavailableReason {
  const code = driverCode(error) ?? '';
  if (CONNECTION_CODES.has(code) || code.startsWith('08')) return 'unreachable';
  if (SCHEMA_CODES.has(code)) return 'schema_not_migrated';
  if (
    error instanceof Error &&
    /no such (table|column)|pool is closed|connection.*(closed|terminated)/i.test(error.message)
  )
    return /no such (table|column)/i.test(error.message) ? 'schema_not_migrated' : 'unreachable';
  return 'failed';
}

/**
 * Run `fn`, turning every driver error into a core `StoreUnavailableError` (503) with its reason: the
 * contract says a store never leaks a driver error. Core errors pass through.
 */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toStoreError(error);
  }
}

/** A driver error as the core error it means (core errors as they are). */
export function toStoreError(error: unknown): Error {
  if (isJitProvisionError(error)) return error;
  return new StoreUnavailableError(
    `store-kysely: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
      reason: reasonOf(error),
    },
  );
}
