import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import { isJitProvisionError } from '../errors';
import { createAuthenticator } from '../provisioning';
import { createTokenCache, tokenEntryBytes } from './token-cache';
import { createTokenVerifier, type TokenVerifier } from './verifier';

let idp: DevIssuer;
let real: TokenVerifier;
beforeAll(async () => {
  idp = await createDevIssuer();
  real = createTokenVerifier([{ issuer: idp.issuer, audience: 'api' }], { clockToleranceSec: 5 });
});
afterAll(() => idp.close());
afterEach(() => vi.useRealTimers());

/** The real verifier, counting how many tokens actually reach signature verification. */
function counted(): TokenVerifier & { calls: number } {
  const counter = {
    calls: 0,
    verify(token: string) {
      counter.calls++;
      return real.verify(token);
    },
  };
  return counter;
}

const mint = (sub: string, expiresIn = 300) =>
  idp.mint({ sub, email: `${sub}@example.com` }, { audience: 'api', expiresIn });

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (!isJitProvisionError(err, 'invalid_token')) throw err;
    return err.reason;
  }
  throw new Error('expected a rejection');
}

describe('createTokenCache', () => {
  it('verifies a token once, then serves it from the cache', async () => {
    const inner = counted();
    const cache = createTokenCache(inner);
    const token = await mint('alice');
    const first = await cache.verify(token);
    const second = await cache.verify(token);
    expect(inner.calls).toBe(1);
    expect(second.identity).toEqual(first.identity);
    expect(second.identity.subject).toBe('alice');
    expect(cache.size).toBe(1);
  });

  it('shares one verification between concurrent requests with the same uncached token', async () => {
    const inner = counted();
    const cache = createTokenCache(inner);
    const token = await mint('bob');
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.verify(token)));
    expect(inner.calls).toBe(1);
    expect(new Set(results.map((r) => r.identity.subject))).toEqual(new Set(['bob']));
  });

  it('never caches a failure, and shares a concurrent one', async () => {
    const inner = counted();
    const cache = createTokenCache(inner);
    const token = await mint('carol');
    const [head, payload, signature] = token.split('.') as [string, string, string];
    const forged = `${head}.${payload}.${signature.slice(0, -4)}AAAA`;
    const reasons = await Promise.all(Array.from({ length: 20 }, () => reasonOf(cache.verify(forged))));
    expect(new Set(reasons)).toEqual(new Set(['bad_signature']));
    expect(inner.calls).toBe(1);
    expect(await reasonOf(cache.verify(forged))).toBe('bad_signature');
    expect(inner.calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('does not serve a cached signature with another payload', async () => {
    const cache = createTokenCache(counted());
    const token = await mint('dave');
    await cache.verify(token);
    const [head, , signature] = token.split('.') as [string, string, string];
    const payload = Buffer.from(
      JSON.stringify({ iss: idp.issuer, sub: 'admin', aud: 'api', exp: 4102444800 }),
    ).toString('base64url');
    expect(await reasonOf(cache.verify(`${head}.${payload}.${signature}`))).toBe('bad_signature');
  });

  it('stops serving a token at exp + clock tolerance, even within ttlMs', async () => {
    const inner = counted();
    const cache = createTokenCache(inner, { clockToleranceSec: 5, ttlMs: 3_600_000 });
    const token = await mint('erin', 60);
    await cache.verify(token);
    vi.useFakeTimers({ toFake: ['Date'] });
    const exp = (await real.verify(token)).claims.exp as number;
    vi.setSystemTime(exp * 1000 + 4_000); // inside the tolerance: still a hit
    await cache.verify(token);
    expect(inner.calls).toBe(1);
    vi.setSystemTime(exp * 1000 + 5_000); // the verifier refuses from here on, and so does the cache
    expect(await reasonOf(cache.verify(token))).toBe('expired');
    expect(inner.calls).toBe(2);
  });

  it('re-verifies after ttlMs', async () => {
    const inner = counted();
    const cache = createTokenCache(inner, { ttlMs: 1_000 });
    const token = await mint('frank');
    vi.useFakeTimers({ toFake: ['Date'] });
    await cache.verify(token);
    vi.advanceTimersByTime(999);
    await cache.verify(token);
    expect(inner.calls).toBe(1);
    vi.advanceTimersByTime(1);
    await cache.verify(token);
    expect(inner.calls).toBe(2);
  });

  it('drops an issuer’s tokens when its keys rotate, and does not cache a verification that straddles it', async () => {
    const inner = counted();
    const cache = createTokenCache(inner);
    const token = await mint('grace');
    await cache.verify(token);
    cache.dropIssuer(idp.issuer);
    await cache.verify(token);
    expect(inner.calls).toBe(2);
    await cache.verify(token);
    expect(inner.calls).toBe(2);

    const other = await mint('heidi');
    const pending = cache.verify(other);
    cache.dropIssuer(idp.issuer);
    await pending;
    await cache.verify(other);
    expect(inner.calls).toBe(4);
    await cache.verify(other);
    expect(inner.calls).toBe(4);
    // Another issuer's rotation leaves these entries alone.
    cache.dropIssuer('https://other.example.com');
    await cache.verify(other);
    expect(inner.calls).toBe(4);
  });

  it('stays within maxEntries, evicting the least recently used', async () => {
    const inner = counted();
    const cache = createTokenCache(inner, { maxEntries: 10 });
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => mint(`user-${i}`)));
    for (const token of tokens) await cache.verify(token);
    expect(cache.size).toBe(10);
    await cache.verify(tokens[49] as string);
    expect(inner.calls).toBe(50);
    await cache.verify(tokens[0] as string);
    expect(inner.calls).toBe(51);
  });

  it('stays within maxBytes with large tokens, evicting the oldest first', async () => {
    // ~14 KB tokens: a long list of group ids, as Entra ID or Keycloak put in big tokens.
    const big = (sub: string) =>
      idp.mint(
        {
          sub,
          groups: Array.from(
            { length: 280 },
            (_, i) => `00000000-0000-4000-8000-${`${i}`.padStart(12, '0')}`,
          ),
        },
        { audience: 'api', expiresIn: 300 },
      );
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => big(`big-${i}`)));
    const each = tokenEntryBytes(tokens[0] as string);
    expect(each).toBeGreaterThan(14_000 * 3);
    const maxBytes = each * 3 + each / 2; // room for three
    const inner = counted();
    const cache = createTokenCache(inner, { maxBytes });
    for (const token of tokens) {
      await cache.verify(token);
      expect(cache.bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(cache.size).toBe(3);
    // The newest three are held; every older one was evicted.
    for (const token of tokens.slice(7)) await cache.verify(token);
    expect(inner.calls).toBe(10);
    await cache.verify(tokens[6] as string);
    expect(inner.calls).toBe(11);
    expect(cache.bytes).toBeLessThanOrEqual(maxBytes);

    // A token bigger than the whole bound is verified every time and never cached.
    const tiny = createTokenCache(inner, { maxBytes: 1_000 });
    await tiny.verify(tokens[0] as string);
    await tiny.verify(tokens[0] as string);
    expect(inner.calls).toBe(13);
    expect(tiny.size).toBe(0);
  });

  it('freezes shared claims so one request cannot alter what the next one sees', async () => {
    const cache = createTokenCache(counted());
    const token = await mint('ivan');
    await cache.verify(token);
    const hit = await cache.verify(token);
    expect(Object.isFrozen(hit.claims)).toBe(true);
    expect(Object.isFrozen(hit.identity)).toBe(true);
    expect(() => {
      (hit.claims as { sub: string }).sub = 'mallory';
    }).toThrow(TypeError);
  });

  it('refuses nonsensical bounds', () => {
    expect(() => createTokenCache(real, { maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(() => createTokenCache(real, { ttlMs: -1 })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(() => createTokenCache(real, { maxBytes: 0 })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
  });
});

describe('token cache inside createAuthenticator', () => {
  it('stops accepting a cached token once a JWKS refetch shows its key was removed', async () => {
    const keyA = await generateKeyPair('ES256');
    const keyB = await generateKeyPair('ES256');
    const jwkA = { ...(await exportJWK(keyA.publicKey)), kid: 'a', alg: 'ES256' };
    const jwkB = { ...(await exportJWK(keyB.publicKey)), kid: 'b', alg: 'ES256' };
    let published: JSONWebKeySet = { keys: [jwkA] };
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(published));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sign = (kid: string, key: CryptoKey) =>
      new SignJWT({ sub: 'u1' })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(issuer)
        .setExpirationTime('5m')
        .sign(key);
    try {
      for (const cache of [undefined, false] as const) {
        published = { keys: [jwkA] };
        const { authenticate } = createAuthenticator({
          issuers: [{ issuer, jwksUri: `${issuer}/jwks`, audience: false }],
          ensureUserExists: async (identity) => ({
            user: { id: identity.subject } as never,
            created: false,
            path: 'fast',
          }),
          cooldownMs: 1,
          ...(cache === false ? { cache } : {}),
        });
        const oldToken = await sign('a', keyA.privateKey);
        const headers = { authorization: `Bearer ${oldToken}` };
        await authenticate({ headers });
        const again = await authenticate({ headers });
        // Only the cache hands out its shared (frozen) claims.
        expect(Object.isFrozen(again.claims)).toBe(cache === undefined);

        published = { keys: [jwkB] }; // rotation: A removed
        await new Promise((resolve) => setTimeout(resolve, 5));
        await authenticate({ headers: { authorization: `Bearer ${await sign('b', keyB.privateKey)}` } });
        await expect(authenticate({ headers })).rejects.toMatchObject({
          code: 'invalid_token',
          reason: 'unknown_key',
        });
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a refetch that only adds keys as no removal', async () => {
    const removed: string[] = [];
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'api' }], {
      cooldownMs: 1,
      onKeysRemoved: (issuer) => removed.push(issuer),
    });
    await verifier.verify(await mint('judy'));
    const hitsBefore = idp.jwksHits;
    await idp.rotateKeys();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await verifier.verify(await mint('kim'));
    expect(idp.jwksHits).toBe(hitsBefore + 1);
    expect(removed).toEqual([]);
  });
});
