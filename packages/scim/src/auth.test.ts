import { isJitProvisionError } from '@jit-provision/core';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, hashToken } from './auth';

const TOKEN = 'a'.repeat(16) + 'B'.repeat(16);
const OTHER = 'z'.repeat(40);
const code = (err: unknown) => (isJitProvisionError(err) ? err.code : String(err));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('createAuthenticator', () => {
  it('accepts each configured token, raw or as its sha256: hash (rotation); refuses any other', async () => {
    const check = createAuthenticator({
      tokens: [TOKEN, hashToken(OTHER).toUpperCase().replace('SHA256', 'sha256')],
      authorize: undefined,
    });
    await expect(check({ headers: bearer(TOKEN) })).resolves.toBeUndefined();
    await expect(check({ headers: new Headers(bearer(OTHER)) })).resolves.toBeUndefined();
    await expect(check({ headers: { Authorization: `bearer ${OTHER}` } })).resolves.toBeUndefined();
    await expect(check({ headers: bearer(`${TOKEN}x`) }).catch(code)).resolves.toBe('invalid_token');
    await expect(check({ headers: { authorization: TOKEN } }).catch(code)).resolves.toBe('invalid_token');
    await expect(check({ headers: {} }).catch(code)).resolves.toBe('missing_token');
  });

  it('authorize(headers) when no token matches', async () => {
    const check = createAuthenticator({
      tokens: undefined,
      authorize: async (h) => (h as Record<string, string>)['x-key'] === 'ok',
    });
    await expect(check({ headers: { 'x-key': 'ok' } })).resolves.toBeUndefined();
    await expect(check({ headers: { 'x-key': 'no' } }).catch(code)).resolves.toBe('missing_token');
  });

  it('ConfigurationError at start-up: no tokens nor authorize, a short token, a malformed hash', () => {
    for (const tokens of [[], ['short'], ['sha256:abc']])
      expect(() => createAuthenticator({ tokens, authorize: undefined })).toThrow(
        expect.objectContaining({ code: 'configuration_error' }),
      );
  });
});
