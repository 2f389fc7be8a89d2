import { createProvisioner, isJitProvisionError } from '@jit-provision/core';
import { toHttpResponse } from '@jit-provision/core/adapter';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokenStore } from './broken-store';

let idp: DevIssuer;
beforeAll(async () => {
  idp = await createDevIssuer();
});
afterAll(() => idp.close());

describe('createBrokenStore', () => {
  it('fails every operation, parts included, with provisioning_unavailable', async () => {
    const store = createBrokenStore();
    const key = { issuer: idp.issuer, subject: 'nobody' };
    const calls: Promise<unknown>[] = [
      store.lookup(key),
      store.getUser('id'),
      store.setRole('id', 'user'),
      store.users?.list({ limit: 1 }) ?? Promise.resolve('missing users part'),
      store.invitations?.purgeInvitations(new Date()) ?? Promise.resolve('missing invitations part'),
      store.reservations?.reserve(key, { leaseMs: 1_000 }) ?? Promise.resolve('missing reservations part'),
    ];
    for (const outcome of await Promise.allSettled(calls)) {
      expect(outcome.status).toBe('rejected');
      const reason = outcome.status === 'rejected' ? outcome.reason : undefined;
      expect(isJitProvisionError(reason, 'provisioning_unavailable')).toBe(true);
    }
    expect(await store.check?.()).toMatchObject({ ok: false });
  });

  it("answers 503 with Retry-After through the provisioner, or no user with 'continue'", async () => {
    const headers = { authorization: `Bearer ${await idp.mint({ sub: 'outage' }, { audience: 'api' })}` };
    const issuers = [{ issuer: idp.issuer, audience: 'api' }];
    const rejecting = createProvisioner({ store: createBrokenStore(), issuers, lastSeen: false });
    const error = await rejecting.authenticate({ headers }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isJitProvisionError(error, 'provisioning_unavailable')).toBe(true);
    const response = toHttpResponse(error);
    expect(response.status).toBe(503);
    expect(response.headers['Retry-After']).toBeDefined();
    const continuing = createProvisioner({
      store: createBrokenStore(),
      issuers,
      lastSeen: false,
      onProvisioningError: 'continue',
    });
    expect(await continuing.authenticate({ headers })).toMatchObject({ user: null, created: false });
    await rejecting.close();
    await continuing.close();
  });
});
