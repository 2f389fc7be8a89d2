import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigurationError, InvalidTokenError, MissingTokenError } from '@jit-provision/core';
import type { RouteAuthRequest } from '@jit-provision/core/adapter';

// Who may call the SCIM endpoint: the identity provider, by a shared bearer token (several, for rotation),
// or by the app's own `authorize(headers)`. Checked in the routes' `authenticate` step, before a byte of the
// body is read.

/** Shortest raw token accepted, bytes (UTF-8): 32 bytes = 256 bits when random. */
export const MIN_TOKEN_BYTES = 32;
/** Longest `Authorization` value read: a SCIM token is tens of bytes. */
const MAX_HEADER_BYTES = 4_096;
const HASHED = /^sha256:([0-9a-f]{64})$/i;

/** A configured token as the SHA-256 of the token the provider sends. */
function hashOf(entry: string, index: number): Buffer {
  const hashed = HASHED.exec(entry);
  if (hashed !== null) return Buffer.from((hashed[1] as string).toLowerCase(), 'hex');
  if (entry.startsWith('sha256:'))
    throw new ConfigurationError(`scimServer: tokens[${index}] must be sha256: and 64 hex digits`);
  if (Buffer.byteLength(entry, 'utf8') < MIN_TOKEN_BYTES)
    throw new ConfigurationError(`scimServer: tokens[${index}] is shorter than ${MIN_TOKEN_BYTES} bytes`);
  return sha256(entry);
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * The SHA-256 hash of a token as `tokens` takes it (`sha256:<64 hex digits>`), to configure the hash
 * rather than the token itself.
 *
 * @example
 * ```ts
 * import { hashToken } from '@jit-provision/scim';
 * console.log(hashToken(process.env.SCIM_TOKEN ?? '')); // sha256:9f86d08…
 * ```
 */
export const hashToken = (token: string): string => `sha256:${sha256(token).toString('hex')}`;

/** One header's value, any case; undefined when absent or repeated (a repeated credential is no credential). */
export function headerOf(headers: RouteAuthRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const keys = Object.keys(record).filter((key) => key.toLowerCase() === name && record[key] !== undefined);
  const value = keys.length === 1 ? record[keys[0] as string] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The `authenticate` step of every SCIM route. */
export function createAuthenticator(options: {
  tokens: readonly string[] | undefined;
  authorize: ((headers: RouteAuthRequest['headers']) => boolean | Promise<boolean>) | undefined;
}): (request: RouteAuthRequest) => Promise<undefined> {
  const hashes = (options.tokens ?? []).map((entry, index) => {
    if (typeof entry !== 'string')
      throw new ConfigurationError(`scimServer: tokens[${index}] must be a string`);
    return hashOf(entry, index);
  });
  const { authorize } = options;
  if (hashes.length === 0 && authorize === undefined)
    throw new ConfigurationError('scimServer needs tokens or authorize');
  const tokenMatches = (token: string): boolean => {
    const presented = sha256(token);
    let match = false;
    // Every configured hash is compared, so the time taken says nothing about which one (or none) matched.
    for (const hash of hashes) match = timingSafeEqual(presented, hash) || match;
    return match;
  };
  return async ({ headers }) => {
    const header = headerOf(headers, 'authorization');
    const token =
      header === undefined ? undefined : /^Bearer +(\S+)$/i.exec(header.slice(0, MAX_HEADER_BYTES))?.[1];
    if (token !== undefined && hashes.length > 0 && tokenMatches(token)) return undefined;
    if (authorize !== undefined && (await authorize(headers)) === true) return undefined;
    if (header === undefined) throw new MissingTokenError();
    throw new InvalidTokenError('bad_signature', 'The SCIM token is not accepted');
  };
}
