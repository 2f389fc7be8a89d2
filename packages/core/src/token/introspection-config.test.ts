import { describe, expect, it } from 'vitest';
import { createProvisioner } from '../provisioning';
import type { IntrospectionConfig } from '../types';
import { checkIntrospection } from './introspection-config';

const issuer = 'https://idp.example.com';
const check = (introspection: unknown, extra: Record<string, unknown> = {}) =>
  checkIntrospection({
    issuer,
    audience: 'api',
    introspection: introspection as IntrospectionConfig,
    ...extra,
  });

describe('introspection options are checked at start-up', () => {
  it('fills the defaults: endpoint from discovery, 60 s positive cache, negative cache off', () => {
    expect(check({ clientId: 'api', clientSecret: 's' })).toMatchObject({
      endpoint: undefined,
      cacheTtlMs: 60_000,
      negativeCacheMs: 0,
    });
    expect(check(undefined)).toBeUndefined();
  });

  it.each([
    ['no clientId', { clientSecret: 's' }],
    ['no client authentication', { clientId: 'api' }],
    ['both secret and key', { clientId: 'api', clientSecret: 's', privateKeyJwt: { kty: 'EC', d: 'x' } }],
    ['a public key', { clientId: 'api', privateKeyJwt: { kty: 'EC', x: 'x', y: 'y' } }],
    ['a symmetric key', { clientId: 'api', privateKeyJwt: { kty: 'oct', d: 'x' } }],
    [
      'an http endpoint off loopback',
      { clientId: 'api', clientSecret: 's', endpoint: 'http://idp.example.com/i' },
    ],
    ['cacheTtlMs over the 5-minute cap', { clientId: 'api', clientSecret: 's', cacheTtlMs: 300_001 }],
    ['a negative cacheTtlMs', { clientId: 'api', clientSecret: 's', cacheTtlMs: -1 }],
    ['negativeCacheMs over 60 s', { clientId: 'api', clientSecret: 's', negativeCacheMs: 60_001 }],
    ['not an object', 'yes'],
  ])('refuses %s', (_name, introspection) => {
    expect(() => check(introspection)).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });

  it('an issuer that is not a URL needs an explicit endpoint', () => {
    expect(() =>
      checkIntrospection({
        issuer: 'legacy',
        audience: 'api',
        secret: 'x'.repeat(32),
        algorithms: ['HS256'],
        introspection: { clientId: 'api', clientSecret: 's' },
      }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });

  it('createProvisioner refuses a bad introspection or userinfo option before any request', () => {
    const store = { lookup: async () => null } as never;
    const base = { issuer, audience: 'api' };
    expect(() =>
      createProvisioner({ store, issuers: [{ ...base, introspection: { clientId: '' } as never }] }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
    expect(() =>
      createProvisioner({ store, issuers: [{ ...base, userinfo: 'sometimes' as never }] }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
    expect(() => createProvisioner({ store, issuers: [base], introspectionRate: { perSecond: 0 } })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
  });
});
