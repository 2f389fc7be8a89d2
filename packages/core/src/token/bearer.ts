import { InvalidTokenError, MissingTokenError } from '../errors';
import { headerValue } from '../internal';
import type { AuthInput } from '../types';

/** Default largest accepted token: 16 KiB (a big Keycloak token with many roles is ~4 KiB). */
export const DEFAULT_MAX_TOKEN_BYTES = 16_384;

// RFC 6750 b64token: a JWS (base64url and dots) or an opaque token an issuer's introspection vouches for.
const BEARER = /^Bearer +([A-Za-z0-9\-_.~+/]+=*)$/i;

/**
 * Read the bearer token from request headers (a web `Headers` or a Node-style record, any case).
 * Strict: exactly one `Authorization: Bearer <token>` header, RFC 6750 token characters only, within
 * `maxTokenBytes`. Never echoes the token in an error.
 *
 * @throws MissingTokenError (401, `WWW-Authenticate: Bearer`) when there is no Authorization header.
 * @throws InvalidTokenError reason `malformed` or `too_large` for anything else that is not one bearer token.
 *
 * @example
 * ```ts
 * const token = readBearerToken({ authorization: 'Bearer eyJhbGciOi...' });
 * ```
 */
export function readBearerToken(
  headers: AuthInput['headers'],
  maxTokenBytes: number = DEFAULT_MAX_TOKEN_BYTES,
): string {
  return parseBearer(headerValue(headers, 'authorization'), maxTokenBytes);
}

/** {@link readBearerToken} on an already read `Authorization` value, so a caller reads the header once. */
export function parseBearer(value: string | string[] | undefined, maxTokenBytes: number): string {
  if (value === undefined) throw new MissingTokenError();
  if (Array.isArray(value)) {
    if (value.length === 0) throw new MissingTokenError();
    throw new InvalidTokenError('malformed', 'Exactly one Authorization header is allowed');
  }
  if (typeof value !== 'string') throw new InvalidTokenError('malformed', 'Malformed Authorization header');
  // Checked before the regex so a multi-megabyte header costs nothing to refuse.
  if (value.length > maxTokenBytes + 7 + 64)
    throw new InvalidTokenError('too_large', 'The access token is too large');
  const match = BEARER.exec(value.trim());
  const token = match?.[1];
  if (token === undefined) {
    throw new InvalidTokenError('malformed', 'Authorization header must be "Bearer <token>"');
  }
  if (token.length > maxTokenBytes) throw new InvalidTokenError('too_large', 'The access token is too large');
  return token;
}

/**
 * The headers of a Node `IncomingMessage` (Express, Fastify) for {@link readBearerToken}. Node keeps only
 * the first of repeated `Authorization` headers in `req.headers`; this restores every value from
 * `rawHeaders`, so a repeated header is refused as ambiguous instead of half-read (a proxy in front may
 * have checked the other one).
 *
 * @example
 * ```ts
 * const auth = await provisioner.authenticate({ headers: nodeRequestHeaders(req) });
 * ```
 */
export function nodeRequestHeaders(req: {
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: readonly string[];
}): Record<string, string | string[] | undefined> {
  const raw = req.rawHeaders;
  // Node keeps the first Authorization in `headers`: none there means none in `rawHeaders` either.
  if (raw === undefined || req.headers['authorization'] === undefined) return req.headers;
  let values: string[] | undefined;
  let first: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    // Length first: lower-casing every header name would allocate on every request.
    if (name.length !== 13 || name.toLowerCase() !== 'authorization') continue;
    const value = raw[i + 1] as string;
    if (first === undefined) first = value;
    else if (values === undefined) values = [first, value];
    else values.push(value);
  }
  return values === undefined ? req.headers : { ...req.headers, authorization: values };
}
