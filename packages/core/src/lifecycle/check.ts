import { isJitProvisionError } from '../errors';
import type { Store } from '../store';
import { checkKeyUrl, discoverJwksUri } from '../token';
import type { IssuerConfig } from '../types';

/** One line of a {@link CheckReport}. */
export interface CheckEntry {
  /** What was checked, e.g. `issuer https://sso.example.com/realms/main` or `store`. */
  name: string;
  ok: boolean;
  /** What was found, in a sentence: enough to fix a failing check without reading the code. */
  detail: string;
}

/** What `provisioner.check()` answers: `ok` when every check passed. */
export interface CheckReport {
  ok: boolean;
  checks: CheckEntry[];
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function fetchKeyCount(url: URL, timeoutMs: number): Promise<number> {
  const response = await fetch(url, {
    redirect: 'manual',
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) throw new Error(`JWKS at ${url.href} answered ${response.status}`);
  const body = (await response.json()) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error(`JWKS at ${url.href} has no "keys" list`);
  return body.keys.length;
}

/** Discovery (unless `jwksUri` is set) and the JWKS of one issuer, fetched now. */
async function checkIssuer(config: IssuerConfig, timeoutMs: number): Promise<CheckEntry> {
  const name = `issuer ${config.issuer}`;
  if (config.algorithms?.every((alg) => alg.startsWith('HS'))) {
    return { name, ok: true, detail: 'verifies with its shared secret: no keys to fetch' };
  }
  let step = config.jwksUri === undefined ? 'discovery' : 'jwksUri';
  try {
    const url =
      config.jwksUri === undefined
        ? await discoverJwksUri(config.issuer, timeoutMs)
        : checkKeyUrl(config.jwksUri, 'jwksUri');
    step = 'JWKS';
    const keys = await fetchKeyCount(url, timeoutMs);
    if (keys === 0) return { name, ok: false, detail: `JWKS at ${url.href} holds no keys` };
    const via = config.jwksUri === undefined ? 'discovery ok, ' : '';
    return { name, ok: true, detail: `${via}JWKS at ${url.href} holds ${keys} key${keys === 1 ? '' : 's'}` };
  } catch (err) {
    return { name, ok: false, detail: `${step} failed: ${message(err)}` };
  }
}

async function checkStore(store: Store): Promise<CheckEntry> {
  if (typeof store.check !== 'function') {
    return { name: 'store', ok: true, detail: 'not checked: the store offers no check()' };
  }
  try {
    const { ok, detail } = await store.check();
    return { name: 'store', ok, detail };
  } catch (err) {
    const reason = isJitProvisionError(err, 'provisioning_unavailable') ? ` (${err.reason})` : '';
    return { name: 'store', ok: false, detail: `check failed${reason}: ${message(err)}` };
  }
}

/**
 * Every check `provisioner.check()` runs, in parallel: each issuer's discovery and JWKS, then the store's
 * own check. Never throws: a failure is an entry with `ok: false`.
 */
export async function runChecks(options: {
  issuers: readonly IssuerConfig[];
  store: Store;
  timeoutMs: number;
}): Promise<CheckReport> {
  const checks = await Promise.all([
    ...options.issuers.map((config) => checkIssuer(config, options.timeoutMs)),
    checkStore(options.store),
  ]);
  return { ok: checks.every((entry) => entry.ok), checks };
}
