import * as crypto from 'node:crypto';

// Node ≥ 20.12 has the one-shot `crypto.hash` (~2 µs for a 1 KiB token, 4× faster than createHash).
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'base64url') => string }).hash;
/** The cache key of a token: its SHA-256, so the token itself is never kept. */
export const tokenKey: (token: string) => string =
  typeof oneShot === 'function'
    ? (token) => oneShot('sha256', token, 'base64url')
    : (token) => crypto.createHash('sha256').update(token).digest('base64url');
