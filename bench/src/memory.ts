import { createHmac } from 'node:crypto';
import { type Claims, createProvisioner, type IssuerConfig } from '@jit-provision/core';
import { createMemoryStore } from '@jit-provision/store-memory';
import { decodeJwt } from 'jose';
// The token cache is internal (not a public export); the bench measures it from source, through tsx.
import { createTokenCache, DEFAULT_TOKEN_CACHE } from '../../packages/core/src/token/token-cache';
import { identityFromClaims, type TokenVerifier } from '../../packages/core/src/token/verifier';
import { settle } from './env';
import { fmt, type Section } from './report';

const ISSUER = 'https://bench.example.com';
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const TOKENS = 100_000;
const USERS = 100_000;
/** The provisioner's default user-cache bound (`cache.maxEntries`). */
const USER_CACHE_ENTRIES = 10_000;

const heapMb = () => process.memoryUsage().heapUsed / 1024 / 1024;

/** Benchmark 6: 100k distinct tokens through the token cache and 100k distinct users through the user cache. */
export async function memoryBenchmark(): Promise<Section> {
  const tokens = await tokenCacheMemory();
  const users = await userCacheMemory();
  return {
    title: '6. Memory: verified-token cache and user cache under 100k distinct tokens / users',
    rows: [
      ...tokens.rows.map((r) => ({ cache: 'token', ...r })),
      ...users.rows.map((r) => ({ cache: 'user', ...r })),
    ],
    targets: [...tokens.targets, ...users.targets],
    notes: [...tokens.notes, ...users.notes],
  };
}

/** Both caches' targets: entries within the bound, and heap flat from the 50k row to the 100k row. */
function boundTargets(
  cache: string,
  unit: string,
  peak: number,
  bound: number,
  rows: Section['rows'],
): Section['targets'] {
  const half = Number(rows[0]?.['heap growth MB']);
  const full = Number(rows[1]?.['heap growth MB']);
  return [
    {
      name: `${cache}: entries never exceed the bound`,
      measured: `${peak} ≤ ${bound}`,
      goal: `≤ ${bound}`,
      pass: peak <= bound,
    },
    {
      name: `${cache}: heap flat from 50k to 100k ${unit} (bounded, no leak)`,
      measured: `${fmt(half)} MB → ${fmt(full)} MB`,
      goal: 'growth ≤ 10% + 2 MB',
      pass: full <= half * 1.1 + 2,
    },
  ];
}

const identity = (i: number) => ({ issuer: ISSUER, subject: `user-${i}`, email: `user-${i}@example.com` });

/**
 * Entries the user cache holds, seen from outside: walking from the newest user back, every held user is a
 * `path: 'cache'` hit (a hit only refreshes recency, it evicts nothing); the first miss ends the walk.
 */
async function userCacheEntries(provisioner: ReturnType<typeof createProvisioner>, seen: number) {
  let hits = 0;
  for (let i = seen - 1; i >= 0; i--) {
    if ((await provisioner.ensureUserExists(identity(i))).path !== 'cache') break;
    hits++;
  }
  return hits;
}

/**
 * 100k distinct users through `provisioner.ensureUserExists` on store-memory, caches on vs `userCache: false, tokenCache: false`:
 * the store holds every user either way, so the difference in heap is the user cache's footprint
 * (its LRU and its id index).
 */
async function userCacheMemory(): Promise<Pick<Section, 'rows' | 'targets' | 'notes'>> {
  const growth = async (cache: boolean) => {
    const provisioner = createProvisioner({
      store: createMemoryStore(),
      issuers: [{ issuer: ISSUER, audience: 'api' }],
      ...(cache ? {} : { userCache: false as const, tokenCache: false as const }),
    });
    await settle();
    const before = heapMb();
    const points: { seen: number; heap: number; entries: number }[] = [];
    for (let i = 0; i < USERS; i++) {
      await provisioner.ensureUserExists(identity(i));
      if (i + 1 === USERS / 2 || i + 1 === USERS) {
        await settle();
        const heap = heapMb() - before;
        points.push({ seen: i + 1, heap, entries: cache ? await userCacheEntries(provisioner, i + 1) : 0 });
      }
    }
    return points;
  };
  const off = await growth(false);
  const on = await growth(true);
  const rows = on.map((p, i) => {
    const cacheMb = p.heap - (off[i]?.heap ?? Number.NaN);
    return {
      seen: `${p.seen.toLocaleString('en-US')} users`,
      'cache entries': p.entries,
      'heap growth MB': cacheMb,
      'bytes/entry': Math.round((cacheMb * 1024 * 1024) / Math.max(1, p.entries)),
    };
  });
  const peak = Math.max(...on.map((p) => p.entries));
  return {
    rows,
    targets: boundTargets('user cache', 'users', peak, USER_CACHE_ENTRIES, rows),
    notes: [
      `User cache: ${USERS.toLocaleString('en-US')} distinct users through provisioner.ensureUserExists on store-memory (each a first login), default options. Heap growth is caches on minus caches off at the same point (the store holds every user either way), after a forced GC. Entries are counted from outside: walking back from the newest user, hits (path 'cache') until the first miss.`,
    ],
  };
}

/** 100k distinct tokens through the verified-token cache stay within its bound. */
async function tokenCacheMemory(): Promise<Pick<Section, 'rows' | 'targets' | 'notes'>> {
  // The cache's footprint does not depend on how a token was verified, so the inner verifier only decodes:
  // 100k real signature checks would spend ~15 s of the 5-minute budget measuring jose, not the cache.
  const config: IssuerConfig = { issuer: ISSUER, audience: 'api' };
  const verifier: TokenVerifier = {
    async verify(token) {
      const claims = decodeJwt(token) as Claims;
      return { claims, identity: identityFromClaims(claims, config), issuer: config, issuedAt: Date.now() };
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
        seen: `${(done + batch).toLocaleString('en-US')} tokens`,
        'cache entries': cache.size,
        'heap growth MB': growth,
        'bytes/entry': Math.round((growth * 1024 * 1024) / Math.max(1, cache.size)),
      });
    }
  }
  cache.clear();
  await settle();
  rows.push({
    seen: 'after clear()',
    'cache entries': cache.size,
    'heap growth MB': heapMb() - before,
    'bytes/entry': '-',
  });
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
    rows,
    targets: [
      ...boundTargets('token cache', 'tokens', peakSize, maxEntries, rows),
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
