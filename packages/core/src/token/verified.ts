import type { AuthClient, Claims, Identity, IssuerConfig } from '../types';

/** A verified token: its claims, the identity they assert, and the issuer that signed them. */
export interface VerifiedToken {
  claims: Claims;
  identity: Identity;
  issuer: IssuerConfig;
  /**
   * When the token counts as issued for revocation (`tokensValidAfter`), ms: the earlier of its `iat` and
   * the moment it was verified. A cached token keeps its first verification's, so a provider clock running
   * ahead cannot lift a token this process saw before a sign-out past it. Undefined without `iat`.
   */
  issuedAt: number | undefined;
  /**
   * The machine client this token speaks for (the issuer's `clients` detection), computed once per verified
   * token; undefined for a person's token and whenever the issuer provisions clients as rows.
   */
  client?: AuthClient | undefined;
  /**
   * Set for an opaque token its issuer's introspection endpoint vouched for: until when the answer may be
   * reused (ms; the earliest of `exp`, `cacheTtlMs` and the 5-minute cap) and its estimated heap bytes, which
   * the token cache honours. Undefined for a JWT.
   */
  introspected?: { cacheUntil: number; bytes: number } | undefined;
}
