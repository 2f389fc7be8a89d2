import { createProvisioner } from '@jit-provision/core';
import { authenticateRequest, nodeAdapterRequest } from '@jit-provision/core/adapter';
import { createMemoryStore } from '@jit-provision/store-memory';
import { AUDIENCE, openIssuer } from './env';
import { rounds } from './hit-path';
import { fmt, type Section } from './report';

/**
 * Benchmark 11: what back-channel logout's revoked-session check costs on the cache-hit path (CPU per call,
 * as in benchmark 8). The same token (with a `sid`) against a provisioner whose issuer takes back-channel
 * logout (the check on, 1,000 other sessions revoked) and one whose issuer does not (off).
 */
export async function sidCheckBenchmark(): Promise<Section> {
  const idp = await openIssuer();
  try {
    const token = await idp.mint(
      { sub: 'user-1', sid: 'session-1', email: 'user-1@example.com', name: 'User One' },
      { audience: AUDIENCE, expiresIn: 3600 },
    );
    const headers = { host: '127.0.0.1:3000', authorization: `Bearer ${token}` };
    const req = { headers, rawHeaders: Object.entries(headers).flat(), method: 'GET' };
    const on = createMemoryStore();
    const until = new Date(Date.now() + 3_600_000);
    for (let i = 0; i < 1_000; i++) await on.logout.revokeSid(idp.issuer, `other-${i}`, until);
    const variants = {
      'sid check off (no backchannelLogout)': createProvisioner({
        store: createMemoryStore(),
        issuers: [{ issuer: idp.issuer, audience: AUDIENCE }],
      }),
      'sid check on (1,000 sessions revoked)': createProvisioner({
        store: on,
        issuers: [{ issuer: idp.issuer, audience: AUDIENCE, backchannelLogout: { clientId: 'app' } }],
      }),
    };
    const options = {};
    const calls: Record<string, () => Promise<unknown>> = {};
    for (const [name, provisioner] of Object.entries(variants)) {
      // Until the feed is up and the revoked sessions are loaded, a hit asks the store: wait for memory.
      for (let deadline = Date.now() + 5_000; ; ) {
        const outcome = await authenticateRequest(
          provisioner,
          nodeAdapterRequest(req, '/me', options),
          options,
        );
        if (!outcome.ok) throw new Error(`warm-up refused: ${JSON.stringify(outcome.response.body)}`);
        if (provisioner.authenticateCached?.(headers.authorization) !== undefined) break;
        if (Date.now() > deadline) throw new Error('the hit path never served from memory');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      calls[name] = () => authenticateRequest(provisioner, nodeAdapterRequest(req, '/me', options), options);
    }
    const result = await rounds(calls);
    const off = result['sid check off (no backchannelLogout)']?.median ?? Number.NaN;
    const onMedian = result['sid check on (1,000 sessions revoked)']?.median ?? Number.NaN;
    const ratio = onMedian / off;
    return {
      title: '11. Back-channel logout: the revoked-session check on the cache-hit path (CPU per call)',
      rows: Object.entries(result).map(([call, r]) => ({
        call,
        'CPU µs/call (median)': fmt(r.median, 3),
        min: fmt(r.min, 3),
      })),
      targets: [
        {
          name: 'a cache hit with the sid check on ÷ off',
          measured: fmt(ratio, 3),
          goal: '≤ 1.05',
          pass: ratio <= 1.05,
        },
      ],
      notes: [
        'Same method as benchmark 8 (hit-path): serial awaited authenticateRequest calls on a cached token and user, CPU time.',
        'With the feed up the check is two Map lookups (issuer, then sid) and a clock read only when the sid is revoked.',
      ],
    };
  } finally {
    await idp.close();
  }
}
