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
