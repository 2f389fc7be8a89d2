import { createHmac, randomBytes } from 'node:crypto';
import { ConfigurationError } from '../errors';

/** An HMAC key for invitation tokens: at least 32 bytes. */
export type InvitationSecret = string | Uint8Array;

/** Minting and hashing invitation tokens under the service's secrets. */
export interface InvitationTokens {
  /** A new token (32 random bytes, base64url) and its HMAC under the first secret, the only form stored. */
  mint(): { token: string; tokenHash: string };
  /** The token's HMAC under every secret, the first one's first: a token minted before a rotation still matches. */
  hashes(token: string): string[];
  /** Whether `value` has the shape of a token we mint; anything else is refused before touching the store. */
  wellFormed(value: unknown): value is string;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function secretBytes(secret: unknown): Buffer {
  if (typeof secret === 'string') return Buffer.from(secret, 'utf8');
  if (secret instanceof Uint8Array) return Buffer.from(secret);
  throw new ConfigurationError('invitation secret must be a string or Uint8Array');
}

/**
 * Tokens under `secret` (or a list while rotating: minted with the first, accepted with any). Only a token's
 * HMAC-SHA256 is ever stored, so a leaked database yields no usable link.
 *
 * @example
 * ```ts
 * const tokens = invitationTokens(process.env.INVITATION_SECRET!);
 * const { token, tokenHash } = tokens.mint();
 * tokens.hashes(token)[0] === tokenHash; // true
 * ```
 */
export function invitationTokens(secret: InvitationSecret | readonly InvitationSecret[]): InvitationTokens {
  const secrets = (Array.isArray(secret) ? secret : [secret]).map(secretBytes);
  if (secrets.length === 0) throw new ConfigurationError('createInvitationService needs a secret');
  if (secrets.some((s) => s.length < 32)) {
    throw new ConfigurationError('invitation secrets must be at least 32 bytes');
  }
  const hashes = (token: string) =>
    secrets.map((key) => createHmac('sha256', key).update(token, 'utf8').digest('base64url'));
  return {
    mint() {
      const token = randomBytes(32).toString('base64url');
      const [tokenHash] = hashes(token) as [string];
      return { token, tokenHash };
    },
    hashes,
    wellFormed: (value): value is string => typeof value === 'string' && TOKEN.test(value),
  };
}
