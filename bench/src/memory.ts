import { createHmac } from 'node:crypto';
import type { Claims, IssuerConfig } from '@jit-provision/core';
import { decodeJwt } from 'jose';
// The token cache is internal (not a public export); the bench measures it from source, through tsx.
import { createTokenCache, DEFAULT_TOKEN_CACHE } from '../../packages/core/src/token-cache';
import { identityFromClaims, type TokenVerifier } from '../../packages/core/src/verifier';
import { settle } from './env';
import { fmt, type Section } from './report';

const ISSUER = 'https://bench.example.com';
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const TOKENS = 100_000;

const heapMb = () => process.memoryUsage().heapUsed / 1024 / 1024;

/** Benchmark 6: 100k distinct tokens through the verified-token cache stay within its bound. */
export async function memoryBenchmark(): Promise<Section> {
  // The cache's footprint does not depend on how a token was verified, so the inner verifier only decodes:
  // 100k real signature checks would spend ~15 s of the 5-minute budget measuring jose, not the cache.
  const config: IssuerConfig = { issuer: ISSUER };
  const verifier: TokenVerifier = {
    async verify(token) {
      const claims = decodeJwt(token) as Claims;
      return { claims, identity: identityFromClaims(claims, config), issuer: config };
    },
  };
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  // Large: ~14 KB, Keycloak-style `resource_access` (many small nested objects, the shape that takes the
  // most heap per token byte among those measured).
  const resourceAccess = Object.fromEntries(
    Array.from({ length: 240 }, (_, j) => [`client-${j}`, { roles: ['view', 'edit'] }]),
  );
  const mint = (i: number, large = false) => {
    const iat = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({
        iss: ISSUER,
        sub: `user-${i}`,
        email: `user-${i}@example.com`,
        name: `User ${i}`,
        iat,
        exp: iat + 3600,
        ...(large ? { resource_access: resourceAccess } : {}),
      }),
    ).toString('base64url');
    const signature = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  };
  const maxEntries = DEFAULT_TOKEN_CACHE.maxEntries;
  const cache = createTokenCache(verifier, { maxEntries });
  const rows: Section['rows'] = [];
  await settle();
  const before = heapMb();
  let peakSize = 0;
  const batch = 1_000;
  for (let done = 0; done < TOKENS; done += batch) {
    // Minted per batch and dropped, so the test holds no more than the cache does.
    const tokens = Array.from({ length: batch }, (_, i) => mint(done + i));
    for (const token of tokens) await cache.verify(token);
    tokens.length = 0; // not counted in the heap measured below
    peakSize = Math.max(peakSize, cache.size);
    if (done + batch === TOKENS / 2 || done + batch === TOKENS) {
      await settle();
      const growth = heapMb() - before;
      rows.push({
        'tokens seen': done + batch,
        'cache entries': cache.size,
        'heap growth MB': growth,
        'bytes/entry': Math.round((growth * 1024 * 1024) / Math.max(1, cache.size)),
      });
    }
  }
  cache.clear();
  await settle();
  rows.push({
    'tokens seen': 'after clear()',
    'cache entries': cache.size,
    'heap growth MB': heapMb() - before,
    'bytes/entry': '-',
  });
  const half = Number(rows[0]?.['heap growth MB']);
  const full = Number(rows[1]?.['heap growth MB']);

  // 100k large tokens through the default bounds: the byte bound binds long before maxEntries.
  const maxBytes = DEFAULT_TOKEN_CACHE.maxBytes;
  const large = createTokenCache(verifier);
  await settle();
  const beforeLarge = heapMb();
  let peakBytes = 0;
  let largeGrowth = 0;
  let tokenLength = 0;
  for (let done = 0; done < TOKENS; done += batch) {
    const tokens = Array.from({ length: batch }, (_, i) => mint(done + i, true));
    tokenLength = tokens[0]?.length ?? 0;
    for (const token of tokens) await large.verify(token);
    tokens.length = 0; // 1,000 large tokens are 12 MB: not counted in the heap measured below
    peakBytes = Math.max(peakBytes, large.bytes);
    if (done + batch === TOKENS / 2 || done + batch === TOKENS) {
      await settle();
      largeGrowth = heapMb() - beforeLarge;
      rows.push({
        'tokens seen': `${done + batch} (${(tokenLength / 1024).toFixed(1)} KB each)`,
        'cache entries': large.size,
        'heap growth MB': largeGrowth,
        'bytes/entry': Math.round((largeGrowth * 1024 * 1024) / Math.max(1, large.size)),
      });
    }
  }
  const estimatedMb = large.bytes / 1024 / 1024;
  large.clear();
  const boundMb = maxBytes / 1024 / 1024;
  return {
    title: '6. Memory: verified-token cache under 100k distinct tokens',
    rows,
    targets: [
      {
        name: 'entries never exceed maxEntries',
        measured: `${peakSize} ≤ ${maxEntries}`,
        goal: `≤ ${maxEntries}`,
        pass: peakSize <= maxEntries,
      },
      {
        name: 'heap flat from 50k to 100k tokens (bounded, no leak)',
        measured: `${fmt(half)} MB → ${fmt(full)} MB`,
        goal: 'growth ≤ 10% + 2 MB',
        pass: full <= half * 1.1 + 2,
      },
      {
        name: 'large tokens: estimated bytes never exceed maxBytes',
        measured: `${fmt(peakBytes / 1024 / 1024)} MB ≤ ${fmt(boundMb)} MB`,
        goal: `≤ ${fmt(boundMb)} MB`,
        pass: peakBytes <= maxBytes,
      },
      {
        name: 'large tokens: heap growth within maxBytes + 2 MB',
        measured: `${fmt(largeGrowth)} MB (estimate ${fmt(estimatedMb)} MB)`,
        goal: `≤ ${fmt(boundMb + 2)} MB`,
        pass: largeGrowth <= boundMb + 2,
      },
    ],
    notes: [
      'Default bounds (10,000 entries, 16 MiB estimated); heap measured after a forced GC. The key is a SHA-256, but the claims are kept, so an entry grows with its token: the byte bound (estimated from the payload length) is what holds large tokens. The inner verifier only decodes (HS256 tokens minted with node:crypto): the footprint does not depend on how a token was verified.',
    ],
  };
}
