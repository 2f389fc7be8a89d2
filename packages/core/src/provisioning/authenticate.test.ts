import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import { StoreUnavailableError } from '../errors';
import type { Identity, Logger } from '../types';
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

describe('revocation and a provider clock running ahead', () => {
  /** Poll until the clock has moved past `ms`, so a change made now is strictly later (no fixed sleep). */
  async function clockPast(ms: number): Promise<void> {
    while (Date.now() <= ms) await new Promise((r) => setTimeout(r, 1));
  }

  it("sign out everywhere refuses a token seen before it whose iat is ahead of the database's clock", async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({ store, issuers: [{ issuer: idp.issuer, audience: 'api' }] });
    // The provider's clock runs 4 s ahead of the database's (within the 5 s tolerance, so accepted).
    const ahead = await idp.mint({ sub: 'stolen' }, { audience: 'api', issuedAt: 4 });
    const headers = { authorization: `Bearer ${ahead}` };
    const first = await provisioner.authenticate({ headers });
    const seen = Date.now();
    expect(provisioner.authenticateCached?.(headers.authorization)?.user?.id).toBe(first.user?.id);
    await clockPast(seen);

    const revoked = await provisioner.revokeSessions(first.user?.id as string);
    const iatMs = (first.claims.iat as number) * 1000;
    expect(iatMs).toBeGreaterThan(revoked.tokensValidAfter?.getTime() as number); // iat is after the sign-out
    const refused = { code: 'invalid_token', status: 401, reason: 'token_revoked' };
    // Twice: the user re-read from the store, then the user served from the cache.
    await expect(provisioner.authenticate({ headers })).rejects.toMatchObject(refused);
    await expect(provisioner.authenticate({ headers })).rejects.toMatchObject(refused);
    expect(provisioner.authenticateCached?.(headers.authorization)).toBeUndefined();

    // A token the provider issues after the sign-out is first seen after it, and passes.
    const fresh = await idp.mint({ sub: 'stolen', n: 2 }, { audience: 'api', issuedAt: 4 });
    expect((await provisioner.authenticate({ headers: { authorization: `Bearer ${fresh}` } })).user?.id).toBe(
      first.user?.id,
    );
  });

  it('refuses a token issued ten years ahead (issued_in_future), provisions nothing, and tells the operator', async () => {
    const store = createMemoryStore();
    const warn = vi.fn<Logger['warn']>();
    const provisioner = createProvisioner({
      store,
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
      logger: { warn, error: vi.fn<Logger['error']>() },
    });
    const tenYears = 10 * 365 * 86_400;
    const token = await idp.mint(
      { sub: 'future' },
      { audience: 'api', issuedAt: tenYears, expiresIn: tenYears + 300 },
    );
    for (let i = 0; i < 3; i++) {
      await expect(
        provisioner.authenticate({ headers: { authorization: `Bearer ${token}` } }),
      ).rejects.toMatchObject({ code: 'invalid_token', status: 401, reason: 'issued_in_future' });
    }
    expect(await store.lookup({ issuer: idp.issuer, subject: 'future' })).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatchObject({ reason: 'issued_in_future', issuer: idp.issuer });
  });
});
