import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { afterAll, beforeAll } from 'vitest';

/** What a suite's cases open and the suite closes once they are done. */
export interface ClosableApp {
  close?(): void | Promise<void>;
}

/**
 * Registers a suite's local issuers: started before its cases, closed after them together with every app the
 * cases opened (`apps` is read at the end, so cases may keep adding to it). The accessor throws when a case
 * runs outside the suite's lifetime, instead of handing it an issuer that is not there.
 */
export function suiteIssuers(suite: string, count: number, apps: readonly ClosableApp[]): () => DevIssuer[] {
  let issuers: DevIssuer[] | undefined;
  beforeAll(async () => {
    issuers = await Promise.all(Array.from({ length: count }, () => createDevIssuer()));
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close?.()));
    await Promise.all((issuers ?? []).map((issuer) => issuer.close()));
  });
  return () => {
    if (issuers === undefined) throw new Error(`${suite}: the issuers start in beforeAll`);
    return issuers;
  };
}

/** {@link suiteIssuers} with one issuer. */
export function suiteIssuer(suite: string, apps: readonly ClosableApp[]): () => DevIssuer {
  const issuers = suiteIssuers(suite, 1, apps);
  return () => issuers()[0] as DevIssuer;
}
