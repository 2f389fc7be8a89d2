/** Why two issuer or audience values that look alike are not equal. */
export type NearMiss = 'trailing slash' | 'scheme';

const bare = (value: string) => value.replace(/^https?:\/\//i, '').replace(/\/+$/, '');

/**
 * The configured value `received` almost matches, and how they differ: only by a trailing slash, or only by
 * `http`/`https`. Issuers and audiences are compared exactly (as they must be), so these are the mistakes
 * that turn every login into a bare 401.
 *
 * @example
 * ```ts
 * nearMiss('https://sso.example.com/realms/main', ['https://sso.example.com/realms/main/']);
 * // { expected: 'https://sso.example.com/realms/main/', differs: 'trailing slash' }
 * ```
 */
export function nearMiss(
  received: string,
  expected: readonly string[],
): { expected: string; differs: NearMiss } | undefined {
  for (const candidate of expected) {
    if (candidate === received || bare(candidate) !== bare(received)) continue;
    const sameScheme = /^https:/i.test(candidate) === /^https:/i.test(received);
    return { expected: candidate, differs: sameScheme ? 'trailing slash' : 'scheme' };
  }
  return undefined;
}

/** A near miss with the sentence that explains it; see {@link nearMissHint}. */
export interface NearMissHint {
  /** The configured value that `presented` nearly matches. */
  configured: string;
  differs: NearMiss;
  /** "did you mean …": always names the value the provider presented, the one to configure. */
  hint: string;
}

/**
 * The one "did you mean" rule, for the run-time diagnostics of a refused token and for `provisioner.check()`
 * alike: when the value the provider presents (a token's `iss` or `aud`, a discovery document's `issuer`)
 * differs from a configured one only by a trailing slash or the scheme, suggest the provider's value. The
 * configured one is what is already there; comparisons are exact, so the provider's is the one that works.
 *
 * @example
 * ```ts
 * nearMissHint('https://sso.example.com/realms/main', ['https://sso.example.com/realms/main/'], 'issuer')?.hint;
 * // 'did you mean "https://sso.example.com/realms/main"? …'
 * ```
 */
export function nearMissHint(
  presented: string,
  configured: readonly string[],
  what: 'issuer' | 'audience',
): NearMissHint | undefined {
  const near = nearMiss(presented, configured);
  if (near === undefined) return undefined;
  return {
    configured: near.expected,
    differs: near.differs,
    hint:
      `did you mean ${JSON.stringify(presented)}? The configured ${what} ${JSON.stringify(near.expected)} ` +
      `differs from the provider's only by a ${near.differs}; ${what === 'issuer' ? 'issuers' : 'audiences'} ` +
      'are compared exactly',
  };
}
