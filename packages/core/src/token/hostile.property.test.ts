import { createMemoryStore } from '@jit-provision/store-memory';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import { isJitProvisionError, toHttpResponse } from '../errors';
import { validateIdentity } from '../identity';
import type { Provisioner } from '../provisioning';
import { createProvisioner } from '../provisioning';
import type { Claims } from '../types';
import { nodeRequestHeaders, readBearerToken } from './bearer';
import { identityFromClaims } from './verifier';

/** Any failure must be one of ours, answered with a 4xx: never a crash, never a 5xx. */
function expectClientError(err: unknown): void {
  expect(isJitProvisionError(err)).toBe(true);
  const { status } = toHttpResponse(err);
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
}

const headerValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string().map((s) => `Bearer ${s}`),
  fc.string({ unit: fc.constantFrom(...'ABCabc019-_. \t') }).map((s) => `Bearer ${s}`),
  fc.constantFrom('Bearer', 'bearer ', 'BEARER  a.b.c', 'Bearer a b', ''),
);
const headerName = fc.oneof(fc.constantFrom('authorization', 'Authorization', 'AUTHORIZATION'), fc.string());
const headerRecord = fc.dictionary(
  headerName,
  fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 }), fc.constant(undefined)),
  { maxKeys: 4 },
);

const b64 = (value: string) => Buffer.from(value).toString('base64url');
const jsonValue = fc.jsonValue({ maxDepth: 2 });
/** JWT-shaped strings: random JSON header and payload, random signature bytes. */
const jwtShaped = fc
  .tuple(jsonValue, jsonValue, fc.uint8Array({ maxLength: 64 }))
  .map(
    ([header, payload, sig]) =>
      `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}.${Buffer.from(sig).toString('base64url')}`,
  );

describe('Authorization parser (fast-check)', () => {
  it('readBearerToken either returns an RFC 6750 b64token or throws a 401 of ours', () => {
    fc.assert(
      fc.property(headerRecord, fc.integer({ min: 1, max: 20_000 }), (headers, max) => {
        try {
          const token = readBearerToken(headers as Record<string, string | string[] | undefined>, max);
          expect(token).toMatch(/^[A-Za-z0-9\-_.~+/]+=*$/);
          expect(token.length).toBeLessThanOrEqual(max);
        } catch (err) {
          expectClientError(err);
          expect(toHttpResponse(err).status).toBe(401);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('readBearerToken on web Headers behaves the same (no throw outside our errors)', () => {
    fc.assert(
      fc.property(
        fc.array(
          headerValue.filter((v) => /^[\t\x20-\x7e]*$/.test(v)),
          { maxLength: 3 },
        ),
        (values) => {
          const headers = new Headers();
          for (const value of values) headers.append('authorization', value);
          try {
            readBearerToken(headers);
          } catch (err) {
            expectClientError(err);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('nodeRequestHeaders makes any repeated Authorization header a refusal', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('Bearer a.b.c', 'Bearer x'), { minLength: 2, maxLength: 4 }),
        (values) => {
          const rawHeaders = values.flatMap((v, i) => [i % 2 ? 'Authorization' : 'authorization', v]);
          const headers = nodeRequestHeaders({ headers: { authorization: values[0] }, rawHeaders });
          expect(() => readBearerToken(headers)).toThrow(expect.objectContaining({ code: 'invalid_token' }));
        },
      ),
    );
    expect(
      nodeRequestHeaders({
        headers: { authorization: 'Bearer a' },
        rawHeaders: ['authorization', 'Bearer a'],
      }),
    ).toEqual({
      authorization: 'Bearer a',
    });
  });
});

describe('claims mapper (fast-check)', () => {
  const claimValue = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 600 }),
    jsonValue,
    fc.constant(undefined),
  );
  const claims = fc.record(
    {
      sub: fc.string({ minLength: 1, maxLength: 255 }),
      email: claimValue,
      email_verified: claimValue,
      name: claimValue,
      tenant_id: fc.oneof(claimValue, fc.integer(), fc.double()),
      org: claimValue,
    },
    { requiredKeys: ['sub'] },
  );

  it('identityFromClaims never throws, keeps only well-typed profile claims; validateIdentity then accepts or answers 400', () => {
    fc.assert(
      fc.property(claims, fc.constantFrom(undefined, 'org'), (raw, tenantClaim) => {
        const identity = identityFromClaims(raw as Claims, {
          issuer: 'https://idp.example.com',
          ...(tenantClaim === undefined ? {} : { tenantClaim }),
        });
        expect(identity.subject).toBe(raw.sub);
        for (const field of ['email', 'name', 'tenantId'] as const) {
          if (identity[field] !== undefined) expect(typeof identity[field]).toBe('string');
        }
        if (identity.emailVerified !== undefined) expect(typeof identity.emailVerified).toBe('boolean');
        try {
          validateIdentity(identity);
        } catch (err) {
          expectClientError(err);
          expect(toHttpResponse(err)).toMatchObject({ status: 400, body: { error: 'invalid_identity' } });
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('authenticate (fast-check, real verifier and dev issuer)', () => {
  let idp: DevIssuer;
  let provisioner: Provisioner;
  let store: ReturnType<typeof createMemoryStore>;
  beforeAll(async () => {
    idp = await createDevIssuer();
    store = createMemoryStore();
    provisioner = createProvisioner({
      store,
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
      logger: { warn: () => {}, error: () => {} },
    });
  });
  afterAll(() => idp?.close());

  it('random headers and JWT-shaped garbage: always a 4xx of ours, nobody created', async () => {
    const input = fc.oneof(
      headerRecord,
      jwtShaped.map((t) => ({ authorization: `Bearer ${t}` })),
      // Valid-looking JSON with our issuer, so verification gets past the issuer lookup to the signature.
      fc.tuple(jsonValue, fc.string({ maxLength: 300 })).map(([extra, sub]) => ({
        authorization: `Bearer ${b64('{"alg":"RS256","kid":"k"}')}.${b64(JSON.stringify({ iss: idp.issuer, sub, aud: 'api', exp: 9e9, extra }))}.c2ln`,
      })),
    );
    await fc.assert(
      fc.asyncProperty(input, async (headers) => {
        try {
          await provisioner.authenticate({
            headers: headers as Record<string, string | string[] | undefined>,
          });
          expect.unreachable('garbage was accepted');
        } catch (err) {
          expectClientError(err);
        }
      }),
      { numRuns: 300 },
    );
    expect(await store.outbox.list()).toHaveLength(0);
  });

  it('valid tokens with arbitrary profile claims: 200-equivalent or a 400, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 255 }),
        fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 50 }), jsonValue),
        fc.oneof(fc.string({ maxLength: 600 }), jsonValue),
        async (sub, email, name) => {
          const token = await idp.mint({ sub, email, name }, { audience: 'api' });
          try {
            const auth = await provisioner.authenticate({ headers: { authorization: `Bearer ${token}` } });
            expect(auth.user?.subject).toBe(sub);
          } catch (err) {
            expectClientError(err);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
