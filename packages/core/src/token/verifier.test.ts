import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import { ConfigurationError, isJitProvisionError, UntrustedIssuerError } from '../errors';
import { createTokenVerifier } from './verifier';

let idp: DevIssuer;
let other: DevIssuer;
let attacker: DevIssuer;

beforeAll(async () => {
  [idp, other, attacker] = await Promise.all([
    createDevIssuer(),
    createDevIssuer({ alg: 'ES256' }),
    createDevIssuer(),
  ]);
});
afterAll(async () => {
  await Promise.all([idp.close(), other.close(), attacker.close()]);
});

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (!isJitProvisionError(err, 'invalid_token')) throw err;
    expect(err.status).toBe(401);
    return err.reason;
  }
  throw new Error('expected verification to fail');
}

/** An HTTP server answering every request with `status`, counting hits. */
async function brokenServer(
  status: number,
  body = '{}',
): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits: () => hits, server };
}

describe('createTokenVerifier', () => {
  it('verifies via OIDC discovery, fetched once, and maps claims to an identity', async () => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'api', tenantClaim: 'org' }]);
    const discoveryBefore = idp.discoveryHits;
    const token = await idp.mint(
      { sub: 'alice', email: 'alice@example.com', email_verified: 'true', name: 'Alice', org: 'acme' },
      { audience: 'api' },
    );
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(idp.discoveryHits - discoveryBefore).toBe(1);
    const { identity, claims, issuer } = results[0] as (typeof results)[0];
    expect(identity).toEqual({
      issuer: idp.issuer,
      subject: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      name: 'Alice',
      tenantId: 'acme',
    });
    expect(claims.sub).toBe('alice');
    expect(issuer.issuer).toBe(idp.issuer);
  });

  it('reads profile claims where `claims` says (Auth0 namespaced) and a nested tenant path (Firebase)', async () => {
    const ns = 'https://example.com/';
    const verifier = createTokenVerifier([
      {
        issuer: idp.issuer,
        audience: 'api',
        claims: { email: `${ns}email`, emailVerified: `${ns}email_verified`, name: `${ns}name` },
        tenantClaim: ['firebase', 'tenant'],
      },
    ]);
    const token = await idp.mint(
      {
        sub: 'auth0|64f0',
        email: 'ignored@example.com',
        [`${ns}email`]: 'ada@example.com',
        [`${ns}email_verified`]: true,
        [`${ns}name`]: 'Ada',
        firebase: { tenant: 'tenant-1', sign_in_provider: 'password' },
      },
      { audience: 'api' },
    );
    expect((await verifier.verify(token)).identity).toEqual({
      issuer: idp.issuer,
      subject: 'auth0|64f0',
      email: 'ada@example.com',
      emailVerified: true,
      name: 'Ada',
      tenantId: 'tenant-1',
    });
    // A path never walks into inherited properties: `__proto__` from JSON is an own key or nothing.
    const proto = createTokenVerifier([
      {
        issuer: idp.issuer,
        audience: 'api',
        claims: { email: ['__proto__', 'email'] },
        tenantClaim: ['constructor', 'name'],
      },
    ]);
    const plain = await idp.mint({ sub: 'bob' }, { audience: 'api' });
    expect((await proto.verify(plain)).identity).toEqual({ issuer: idp.issuer, subject: 'bob' });
  });

  it('requires an audience per issuer; audience: false opts out with one start-up warning (issue 11 #10)', async () => {
    for (const audience of [undefined, '', [], [''], 42]) {
      expect(() => createTokenVerifier([{ issuer: idp.issuer, audience } as never])).toThrow(
        expect.objectContaining({ code: 'configuration_error' }),
      );
    }
    expect(() =>
      createTokenVerifier([{ issuer: idp.issuer, audience: 'api' }, { issuer: other.issuer }]),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
    const warn = vi.fn();
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: false }], {
      logger: { warn, error: vi.fn() },
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toEqual({ issuer: idp.issuer });
    for (const audience of ['api', 'billing', undefined]) {
      const options = audience === undefined ? {} : { audience };
      await expect(verifier.verify(await idp.mint({ sub: 'u' }, options))).resolves.toBeDefined();
    }
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('refuses empty claim names or paths at start-up', () => {
    for (const bad of [
      { claims: { email: '' } },
      { claims: { name: [] } },
      { tenantClaim: ['firebase', ''] },
    ]) {
      expect(() => createTokenVerifier([{ issuer: idp.issuer, ...bad, audience: false }])).toThrow(
        ConfigurationError,
      );
    }
  });

  it('drops profile claims of the wrong type instead of trusting them', async () => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: false }]);
    const token = await idp.mint({
      sub: 'bob',
      email: ['a@b.c'],
      email_verified: 'yes',
      name: 42,
      tenant_id: 7,
    });
    const { identity } = await verifier.verify(token);
    expect(identity).toEqual({ issuer: idp.issuer, subject: 'bob', tenantId: '7' });
  });

  it('uses an explicit jwksUri without discovery', async () => {
    const before = idp.discoveryHits;
    const verifier = createTokenVerifier([{ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: false }]);
    await verifier.verify(await idp.mint({ sub: 'carol' }));
    expect(idp.discoveryHits).toBe(before);
  });

  it('verifies two issuers at once, each with its own keys', async () => {
    const verifier = createTokenVerifier([
      { issuer: idp.issuer, audience: false },
      { issuer: other.issuer, audience: false },
    ]);
    const [a, b] = await Promise.all([
      verifier.verify(await idp.mint({ sub: 'same' })),
      verifier.verify(await other.mint({ sub: 'same' })),
    ]);
    expect(a.identity.issuer).toBe(idp.issuer);
    expect(b.identity.issuer).toBe(other.issuer);
    // A token claiming issuer B but signed with A's key is not B's.
    const forged = await idp.mint({ sub: 'x', iss: other.issuer }, { header: { kid: other.currentKid } });
    expect(await reasonOf(verifier.verify(forged))).toMatch(/unknown_key|bad_signature/);
  });

  it('picks up a rotated key (new kid) after a JWKS refetch, and still accepts the old key', async () => {
    const issuer = await createDevIssuer();
    try {
      const verifier = createTokenVerifier([{ issuer: issuer.issuer, audience: false }], { cooldownMs: 0 });
      const oldKid = issuer.currentKid;
      await verifier.verify(await issuer.mint({ sub: 'u1' }));
      expect(issuer.jwksHits).toBe(1);
      await issuer.rotateKeys();
      await verifier.verify(await issuer.mint({ sub: 'u1' }));
      expect(issuer.jwksHits).toBe(2);
      await verifier.verify(await issuer.mint({ sub: 'u1' }, { kid: oldKid }));
      expect(issuer.jwksHits).toBe(2);
    } finally {
      await issuer.close();
    }
  });

  it('caps refetches: a flood of unknown kids costs at most one fetch per cooldown', async () => {
    const issuer = await createDevIssuer();
    try {
      const verifier = createTokenVerifier([{ issuer: issuer.issuer, audience: false }]);
      await verifier.verify(await issuer.mint({ sub: 'u1' }));
      const tokens = await Promise.all(
        Array.from({ length: 50 }, (_, i) => issuer.mint({ sub: 'u1' }, { header: { kid: `random-${i}` } })),
      );
      const reasons = await Promise.all(tokens.map((t) => reasonOf(verifier.verify(t))));
      expect(new Set(reasons)).toEqual(new Set(['unknown_key']));
      expect(issuer.jwksHits).toBe(1);
    } finally {
      await issuer.close();
    }
  });

  it('accepts exp within the clock tolerance and refuses beyond it', async () => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: false }]);
    await verifier.verify(await idp.mint({ sub: 'u' }, { expiresIn: -3 }));
    expect(await reasonOf(verifier.verify(await idp.mint({ sub: 'u' }, { expiresIn: -10 })))).toBe('expired');
    const strict = createTokenVerifier([{ issuer: idp.issuer, audience: false }], { clockToleranceSec: 0 });
    expect(await reasonOf(strict.verify(await idp.mint({ sub: 'u' }, { expiresIn: -2 })))).toBe('expired');
  });

  it('refuses an iat later than now plus the clock tolerance (issued_in_future), accepts one within it', async () => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: false }]);
    const within = await verifier.verify(await idp.mint({ sub: 'u' }, { issuedAt: 3 }));
    // Counted as issued when it was first verified, not at its (future) iat.
    expect(within.issuedAt).toBeLessThanOrEqual(Date.now());
    const tenYears = 10 * 365 * 86_400;
    for (const issuedAt of [10, tenYears]) {
      const token = await idp.mint({ sub: 'u' }, { issuedAt, expiresIn: issuedAt + 300 });
      const err = await verifier.verify(token).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'invalid_token', status: 401, reason: 'issued_in_future' });
      expect(err).toMatchObject({ issuer: idp.issuer });
    }
    const strict = createTokenVerifier([{ issuer: idp.issuer, audience: false }], { clockToleranceSec: 0 });
    expect(await reasonOf(strict.verify(await idp.mint({ sub: 'u' }, { issuedAt: 2 })))).toBe(
      'issued_in_future',
    );
    // A past iat is the token's own (the earlier of the two), in ms.
    const past = await verifier.verify(await idp.mint({ sub: 'u' }, { issuedAt: -60 }));
    expect(past.issuedAt).toBe((past.claims.iat as number) * 1000);
    expect(
      (await verifier.verify(await idp.mint({ sub: 'u' }, { issuedAt: false }))).issuedAt,
    ).toBeUndefined();
  });

  describe('refuses, with a precise reason', () => {
    const config = () => [{ issuer: idp.issuer, audience: 'api' }];
    const mint = (claims: Record<string, unknown> = {}, options: Parameters<DevIssuer['mint']>[1] = {}) =>
      idp.mint({ sub: 'victim', ...claims }, { audience: 'api', ...options });

    it.each<[string, () => Promise<string>, string]>([
      ['expired', () => mint({}, { expiresIn: -60 }), 'expired'],
      ['nbf in the future', () => mint({}, { notBefore: 120 }), 'not_yet_valid'],
      ['wrong audience', () => mint({}, { audience: 'other-api' }), 'wrong_audience'],
      ['no audience', () => idp.mint({ sub: 'victim' }), 'missing_claim'],
      ['no exp', () => mint({}, { expiresIn: false }), 'missing_claim'],
      ['no sub', () => idp.mint({ sub: undefined } as never, { audience: 'api' }), 'missing_claim'],
      ['empty sub', () => mint({ sub: '' }), 'invalid_claim'],
      ['numeric sub', () => mint({ sub: 42 }), 'invalid_claim'],
      ['over-long sub', () => mint({ sub: 'x'.repeat(256) }), 'invalid_claim'],
      ['sub with control characters', () => mint({ sub: 'a\nb' }), 'invalid_claim'],
      ['sub with a lone surrogate', () => mint({ sub: 'x\uD800' }), 'invalid_claim'],
      ['email with a lone surrogate', () => mint({ email: 'a\uDBFF@example.com' }), 'invalid_claim'],
      ['name with a lone surrogate', () => mint({ name: 'Eve \uDC00' }), 'invalid_claim'],
      ['tenant_id with a lone surrogate', () => mint({ tenant_id: 'acme\uD83D' }), 'invalid_claim'],
      ['exp not a number', () => mint({ exp: 'tomorrow' }), 'invalid_claim'],
      ['unknown kid', () => mint({}, { header: { kid: 'nope' } }), 'unknown_key'],
      [
        'tampered payload',
        async () => {
          const [h, , s] = (await mint()).split('.');
          const payload = Buffer.from(
            JSON.stringify({ iss: idp.issuer, sub: 'admin', aud: 'api', exp: 9e9 }),
          );
          return `${h}.${payload.toString('base64url')}.${s}`;
        },
        'bad_signature',
      ],
      [
        'alg none',
        async () =>
          new UnsecuredJWT({ sub: 'victim', aud: 'api' })
            .setIssuer(idp.issuer)
            .setExpirationTime('5m')
            .encode(),
        'algorithm_not_allowed',
      ],
      [
        'HS256 signed with the public key as secret (key confusion)',
        async () =>
          new SignJWT({ sub: 'victim', aud: 'api' })
            .setProtectedHeader({ alg: 'HS256', kid: idp.currentKid })
            .setIssuer(idp.issuer)
            .setExpirationTime('5m')
            .sign(new TextEncoder().encode(await idp.publicKeyPem())),
        'algorithm_not_allowed',
      ],
      [
        'unknown crit header (refused before any key lookup)',
        async () => {
          const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
          const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
          const input = `${part({ alg: 'RS256', kid: idp.currentKid, crit: ['x-ext'], 'x-ext': 1 })}.${part({ iss: idp.issuer, sub: 'victim', aud: 'api', exp: 9e9 })}`;
          return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
        },
        'malformed',
      ],
      ['garbage', async () => 'not-a-jwt', 'malformed'],
      ['three dots of nothing', async () => 'a.b.c', 'malformed'],
      ['too large', async () => `${'a'.repeat(20_000)}.b.c`, 'too_large'],
    ])('%s', async (_name, token, reason) => {
      const verifier = createTokenVerifier(config());
      expect(await reasonOf(verifier.verify(await token()))).toBe(reason);
    });

    it('an algorithm outside the issuer allow-list', async () => {
      const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'api', algorithms: ['ES256'] }]);
      expect(await reasonOf(verifier.verify(await mint()))).toBe('algorithm_not_allowed');
    });

    it('an untrusted issuer, even one that serves valid keys', async () => {
      const verifier = createTokenVerifier(config());
      const err = await verifier
        .verify(await attacker.mint({ sub: 'x' }, { audience: 'api' }))
        .catch((e) => e);
      expect(err).toBeInstanceOf(UntrustedIssuerError);
      expect(err).toMatchObject({ code: 'invalid_token', reason: 'untrusted_issuer', status: 401 });
      expect(attacker.jwksHits + attacker.discoveryHits).toBe(0);
      const noIss = await new SignJWT({ sub: 'x' })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new Uint8Array(32));
      expect(await reasonOf(verifier.verify(noIss))).toBe('untrusted_issuer');
    });

    it('never fetches jku / x5u / embedded jwk headers', async () => {
      const verifier = createTokenVerifier(config());
      const [attackerJwk] = attacker.jwks().keys;
      if (attackerJwk === undefined) throw new Error('dev issuer publishes no key');
      const token = await attacker.mint(
        { sub: 'victim', iss: idp.issuer },
        { audience: 'api', header: { jku: attacker.jwksUri, x5u: attacker.jwksUri, jwk: attackerJwk } },
      );
      expect(await reasonOf(verifier.verify(token))).toBe('unknown_key');
      expect(attacker.jwksHits).toBe(0);
    });

    it('keeps the token out of every error message', async () => {
      const verifier = createTokenVerifier(config());
      const token = await mint({}, { expiresIn: -60 });
      const err = (await verifier.verify(token).catch((e) => e)) as Error;
      expect(err.message).not.toContain(token);
      expect(err.message).not.toContain(token.split('.')[1]);
    });
  });

  describe('jwks_unavailable', () => {
    it('when the JWKS endpoint is down', async () => {
      const gone = await createDevIssuer();
      const jwksUri = gone.jwksUri;
      const token = await gone.mint({ sub: 'u' });
      await gone.close();
      const verifier = createTokenVerifier([{ issuer: gone.issuer, jwksUri, audience: false }]);
      expect(await reasonOf(verifier.verify(token))).toBe('jwks_unavailable');
    });

    it('when the JWKS endpoint answers 500 or junk', async () => {
      for (const [status, body] of [
        [500, '{}'],
        [200, 'not json'],
        [200, '{"keys": "nope"}'],
      ] as const) {
        const broken = await brokenServer(status, body);
        try {
          const verifier = createTokenVerifier([
            { issuer: idp.issuer, jwksUri: `${broken.url}/jwks`, audience: false },
          ]);
          expect(await reasonOf(verifier.verify(await idp.mint({ sub: 'u' })))).toBe('jwks_unavailable');
        } finally {
          broken.server.close();
        }
      }
    });

    it('when discovery fails, and does not refetch it for every request', async () => {
      const broken = await brokenServer(503);
      try {
        const verifier = createTokenVerifier([{ issuer: broken.url, audience: false }]);
        const { privateKey } = await generateKeyPair('RS256');
        const token = await new SignJWT({ sub: 'u' })
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer(broken.url)
          .setExpirationTime('5m')
          .sign(privateKey);
        const reasons = await Promise.all(Array.from({ length: 20 }, () => reasonOf(verifier.verify(token))));
        expect(new Set(reasons)).toEqual(new Set(['jwks_unavailable']));
        expect(broken.hits()).toBe(1);
      } finally {
        broken.server.close();
      }
    });

    it('when the discovery document names another issuer (mix-up)', async () => {
      const liar = await brokenServer(
        200,
        JSON.stringify({ issuer: 'https://elsewhere.example', jwks_uri: idp.jwksUri }),
      );
      try {
        const verifier = createTokenVerifier([{ issuer: liar.url, audience: false }]);
        const token = await idp.mint({ sub: 'u', iss: liar.url });
        expect(await reasonOf(verifier.verify(token))).toBe('jwks_unavailable');
      } finally {
        liar.server.close();
      }
    });
  });

  describe('JWKS failures are throttled, and a known key outlives a failing endpoint (issue 11 #4)', () => {
    /** A loopback JWKS server publishing `idp`'s keys until `fail` is set, then answering 503; counts hits. */
    async function flakyJwks() {
      const state = { fail: false, hits: 0 };
      const server = createServer((_req, res) => {
        state.hits++;
        if (state.fail) res.writeHead(503).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(idp.jwks()));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return { state, jwksUri: `http://127.0.0.1:${port}/jwks`, close: () => server.close() };
    }
    const forged = async () => {
      const [h, p] = (await idp.mint({ sub: 'victim' }, { audience: 'api' })).split('.');
      return `${h}.${p}.${Buffer.from('garbage signature').toString('base64url')}`;
    };

    it('300 forged tokens against a 503 JWKS endpoint cost a bounded number of fetches', async () => {
      const jwks = await flakyJwks();
      jwks.state.fail = true;
      try {
        const verifier = createTokenVerifier([
          { issuer: idp.issuer, audience: 'api', jwksUri: jwks.jwksUri },
        ]);
        const token = await forged();
        const reasons: string[] = [];
        for (let batch = 0; batch < 15; batch++) {
          reasons.push(
            ...(await Promise.all(Array.from({ length: 20 }, () => reasonOf(verifier.verify(token))))),
          );
        }
        expect(reasons).toHaveLength(300);
        expect(new Set(reasons)).toEqual(new Set(['jwks_unavailable']));
        // One fetch, then at most one per 5 s of failure backoff; before, every token fetched (301).
        expect(jwks.state.hits).toBeLessThanOrEqual(3);
      } finally {
        jwks.close();
      }
    });

    it('a valid token with a known kid still verifies past cacheMaxAge while the endpoint fails, up to 24 h', async () => {
      const jwks = await flakyJwks();
      try {
        vi.useFakeTimers({ toFake: ['Date'] });
        const verifier = createTokenVerifier(
          [{ issuer: idp.issuer, audience: 'api', jwksUri: jwks.jwksUri }],
          { cacheMaxAgeMs: 60_000, clockToleranceSec: 300 },
        );
        await verifier.verify(await idp.mint({ sub: 'u' }, { audience: 'api', expiresIn: 86_400 * 2 }));
        expect(jwks.state.hits).toBe(1);
        jwks.state.fail = true;
        vi.advanceTimersByTime(10 * 60_000);
        const token = await idp.mint({ sub: 'u2' }, { audience: 'api', expiresIn: 86_400 * 2 });
        for (let i = 0; i < 50; i++) await verifier.verify(token);
        // The stale set was used; the refetch was tried once and then backed off.
        expect(jwks.state.hits).toBe(2);
        expect(await reasonOf(verifier.verify(await forged()))).toBe('bad_signature');
        // Past the 24 h stale bound, keys are no longer trusted without the issuer.
        vi.advanceTimersByTime(24 * 60 * 60_000);
        const late = await idp.mint({ sub: 'u3' }, { audience: 'api', expiresIn: 86_400 * 3 });
        expect(await reasonOf(verifier.verify(late))).toBe('jwks_unavailable');
        jwks.state.fail = false;
        vi.advanceTimersByTime(5_000);
        await expect(verifier.verify(late)).resolves.toMatchObject({ identity: { subject: 'u3' } });
      } finally {
        vi.useRealTimers();
        jwks.close();
      }
    });
  });

  describe('HMAC issuers', () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';

    it('verifies HS256 only when the issuer has a secret and names HS256', async () => {
      const verifier = createTokenVerifier([
        { issuer: 'https://hs.example', secret, algorithms: ['HS256'], audience: false },
      ]);
      const token = await new SignJWT({ sub: 'u' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('https://hs.example')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      expect((await verifier.verify(token)).identity.subject).toBe('u');
      const wrong = await new SignJWT({ sub: 'u' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('https://hs.example')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(`${secret}-other`));
      expect(await reasonOf(verifier.verify(wrong))).toBe('bad_signature');
    });

    it('refuses HS* configuration without a (long enough) secret, and unknown algorithms', () => {
      expect(() => createTokenVerifier([{ issuer: 'https://hs.example', algorithms: ['HS256'] }])).toThrow(
        ConfigurationError,
      );
      expect(() =>
        createTokenVerifier([{ issuer: 'https://hs.example', algorithms: ['HS256'], secret: 'short' }]),
      ).toThrow(ConfigurationError);
      expect(() => createTokenVerifier([{ issuer: 'https://x.example', algorithms: ['none'] }])).toThrow(
        ConfigurationError,
      );
      expect(() =>
        createTokenVerifier([{ issuer: 'https://x.example', jwksUri: 'http://evil.example/jwks' }]),
      ).toThrow(ConfigurationError);
    });
  });
});

describe('refused tokens carry no claims (issue 11 #9)', () => {
  it.each<[string, Parameters<DevIssuer['mint']>[1]]>([
    ['expired', { audience: 'api', expiresIn: -60 }],
    ['wrong audience', { audience: 'other-api' }],
  ])('%s: neither the error nor its cause chain holds a claim value', async (_name, options) => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'api' }]);
    const secrets = ['pii-subject-7731', 'pii.person@example.com', '+44 20 7946 0958'];
    const token = await idp.mint(
      { sub: secrets[0] as string, email: secrets[1], phone_number: secrets[2] },
      options,
    );
    const err = await verifier.verify(token).catch((e: unknown) => e);
    if (!isJitProvisionError(err, 'invalid_token')) throw err;
    expect(err.issuer).toBe(idp.issuer);
    const chain: unknown[] = [];
    for (let e: unknown = err; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause)
      chain.push(e);
    const dumps = [
      inspect(err, { depth: 20, showHidden: true }),
      ...chain.map((e) => JSON.stringify(e, Object.getOwnPropertyNames(e))),
      ...chain.map((e) => JSON.stringify(e)),
    ];
    for (const dump of dumps) for (const secret of secrets) expect(dump).not.toContain(secret);
    expect(chain.some((e) => typeof e === 'object' && e !== null && 'payload' in e)).toBe(false);
  });
});

describe('refusals are built without a stack (issue 33)', () => {
  it('a refused token keeps its code, reason, issuer and cause name, and captures no stack frames', async () => {
    const verifier = createTokenVerifier([{ issuer: idp.issuer, audience: 'api' }]);
    const token = await idp.mint({ sub: 'late' }, { audience: 'api', expiresIn: -60 });
    const err = await verifier.verify(token).catch((e: unknown) => e);
    if (!isJitProvisionError(err, 'invalid_token')) throw err;
    expect(err).toMatchObject({ code: 'invalid_token', status: 401, reason: 'expired', issuer: idp.issuer });
    expect((err.cause as Error).name).toBe('JWTExpired');
    // Frames cost a quarter of a refusal and name only the verifier's internals; anyone can send these at volume.
    expect(err.stack).not.toMatch(/\n\s+at /);
    expect((err.cause as Error).stack).not.toMatch(/\n\s+at /);
    // Only refusals: other errors keep their stacks, and the limit is restored.
    expect(new Error('x').stack).toMatch(/\n\s+at /);
  });
});
