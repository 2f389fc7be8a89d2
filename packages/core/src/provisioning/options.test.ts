import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import type { IssuerConfig, Logger } from '../types';
import { resolveProvisionerOptions } from './options';
import { createProvisioner } from './provisioner';

const ISSUER = 'https://sso.example.com/realms/main';
const quiet = () => ({ warn: vi.fn(), error: vi.fn() }) satisfies Logger;

describe('resolveProvisionerOptions: the one list of the provisioner option checks', () => {
  it.each<[string, Record<string, unknown>]>([
    ['no audience', { audience: undefined }],
    ['empty algorithms', { algorithms: [] }],
    ['HS256 without a secret', { algorithms: ['HS256'] }],
    ['an unknown algorithm', { algorithms: ['none'] }],
    ['an empty claim path', { claims: { email: [] } }],
    ['an empty tenant claim', { tenantClaim: '' }],
    ['a jwksUri over plain http', { jwksUri: 'http://keys.example.com/jwks' }],
    ['roles without allow', { roles: { claim: 'roles', map: {}, allow: [] } }],
  ])('refuses an issuer with %s itself, before any verifier exists', (_case, bad) => {
    const issuer = { issuer: ISSUER, audience: 'api', ...bad } as IssuerConfig;
    expect(() =>
      resolveProvisionerOptions({ store: createMemoryStore(), issuers: [issuer], logger: quiet() }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });

  it.each([Number.NaN, 0, -1, Number.POSITIVE_INFINITY])('refuses maxTokenBytes %s', (maxTokenBytes) => {
    expect(() =>
      createProvisioner({
        store: createMemoryStore(),
        issuers: [{ issuer: ISSUER, audience: 'api' }],
        maxTokenBytes,
        logger: quiet(),
      }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });

  it.each([Number.NaN, -1, 301])('refuses clockToleranceSec %s', (clockToleranceSec) => {
    expect(() =>
      resolveProvisionerOptions({
        store: createMemoryStore(),
        issuers: [{ issuer: ISSUER, audience: 'api' }],
        clockToleranceSec,
        logger: quiet(),
      }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });

  it('refuses bad token cache bounds at start-up', () => {
    const attempt = (options: object) => () =>
      resolveProvisionerOptions({
        store: createMemoryStore(),
        issuers: [{ issuer: ISSUER, audience: 'api' }],
        logger: quiet(),
        ...options,
      });
    expect(attempt({ tokenCache: { maxEntries: 0 } })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(attempt({ tokenCache: { ttlMs: Number.NaN } })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(attempt({ tokenCache: false })).not.toThrow();
  });

  it('warns once, at start-up, about an issuer with audience: false', async () => {
    const logger = quiet();
    const provisioner = createProvisioner({
      store: createMemoryStore(),
      issuers: [{ issuer: ISSUER, audience: false }],
      logger,
    });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatchObject({ issuer: ISSUER });
    await provisioner.close();
  });
});
