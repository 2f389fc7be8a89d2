import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import { StoreUnavailableError } from '../errors';
import type { Identity } from '../types';
import { createAuthenticator } from './authenticate';
import { createProvisioner } from './provisioner';
import type { ProvisionResult } from './types';

let idp: DevIssuer;
beforeAll(async () => {
  idp = await createDevIssuer();
});
afterAll(() => idp.close());

describe('createAuthenticator', () => {
  it('reads, verifies and provisions; nothing is provisioned for a failing token', async () => {
    const seen: Identity[] = [];
    const { authenticate } = createAuthenticator({
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
      ensureUserExists: async (identity) => {
        seen.push(identity);
        return createProvisioner({ store: createMemoryStore(), issuers: [] }).ensureUserExists(identity);
      },
    });
    const token = await idp.mint({ sub: 'alice', email: 'a@example.com' }, { audience: 'api' });
    const result = await authenticate({ headers: { authorization: `Bearer ${token}` } });
    expect(result).toMatchObject({ created: true, identity: { subject: 'alice' }, claims: { sub: 'alice' } });
    expect(result.user?.username).toMatch(/^oidc:.+:alice$/);

    const bad = await idp.mint({ sub: 'mallory' }, { audience: 'other' });
    await expect(authenticate({ headers: { authorization: `Bearer ${bad}` } })).rejects.toMatchObject({
      code: 'invalid_token',
      reason: 'wrong_audience',
    });
    await expect(authenticate({ headers: {} })).rejects.toMatchObject({ code: 'missing_token' });
    expect(seen.map((i) => i.subject)).toEqual(['alice']);
  });

  it("continues without a user on a store outage in 'continue' mode, logging no token", async () => {
    const logs: unknown[] = [];
    const down = async (): Promise<ProvisionResult> => {
      throw new StoreUnavailableError();
    };
    const token = await idp.mint({ sub: 'bob' }, { audience: 'api' });
    const headers = { authorization: `Bearer ${token}` };
    const { authenticate: lenient } = createAuthenticator({
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
      ensureUserExists: down,
      onProvisioningError: 'continue',
      logger: { warn: (obj) => logs.push(obj), error: (obj) => logs.push(obj) },
    });
    expect(await lenient({ headers })).toMatchObject({
      user: null,
      created: false,
      identity: { subject: 'bob' },
    });
    expect(logs).toHaveLength(1);
    expect(JSON.stringify(logs)).not.toContain(token.split('.')[1]);

    const { authenticate: strict } = createAuthenticator({
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
      ensureUserExists: down,
    });
    await expect(strict({ headers })).rejects.toMatchObject({
      code: 'provisioning_unavailable',
      status: 503,
    });
  });
});

describe('provisioner jwks options', () => {
  it('jwks.cooldownMs bounds how soon a rotated key is picked up; bad values fail at start-up', async () => {
    const rotating = await createDevIssuer();
    try {
      const issuers = [{ issuer: rotating.issuer, audience: false as const }];
      const byDefault = createProvisioner({ store: createMemoryStore(), issuers });
      const eager = createProvisioner({ store: createMemoryStore(), issuers, jwks: { cooldownMs: 0 } });
      const first = { authorization: `Bearer ${await rotating.mint({ sub: 'before' })}` };
      await byDefault.authenticate({ headers: first });
      await eager.authenticate({ headers: first });

      await rotating.rotateKeys();
      const rotated = { authorization: `Bearer ${await rotating.mint({ sub: 'after' })}` };
      // jose's default 30 s cooldown: a kid unseen a moment after the last fetch is not fetched again yet.
      await expect(byDefault.authenticate({ headers: rotated })).rejects.toMatchObject({
        code: 'invalid_token',
        reason: 'unknown_key',
      });
      await expect(eager.authenticate({ headers: rotated })).resolves.toMatchObject({ created: true });

      for (const jwks of [{ cooldownMs: -1 }, { timeoutMs: Number.NaN }]) {
        expect(() => createProvisioner({ store: createMemoryStore(), issuers, jwks })).toThrow(
          expect.objectContaining({ code: 'configuration_error' }),
        );
      }
    } finally {
      await rotating.close();
    }
  });
});
