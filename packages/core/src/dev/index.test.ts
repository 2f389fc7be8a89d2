import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { createDevIssuer } from './index';

describe('createDevIssuer', () => {
  it('serves discovery and JWKS over HTTP on loopback, counting hits', async () => {
    const idp = await createDevIssuer({ alg: 'ES256' });
    try {
      expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const discovery = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
      expect(discovery).toMatchObject({ issuer: idp.issuer, jwks_uri: idp.jwksUri });
      const jwks = (await (await fetch(idp.jwksUri)).json()) as { keys: Array<Record<string, unknown>> };
      expect(jwks.keys).toEqual([expect.objectContaining({ kid: idp.currentKid, alg: 'ES256', kty: 'EC' })]);
      expect(jwks.keys[0]).not.toHaveProperty('d');
      expect([idp.discoveryHits, idp.jwksHits]).toEqual([1, 1]);
      expect((await fetch(`${idp.issuer}/nope`)).status).toBe(404);
    } finally {
      await idp.close();
    }
  });

  it('mints tokens with iss, iat, exp, aud and header overrides', async () => {
    const idp = await createDevIssuer();
    try {
      const token = await idp.mint({ sub: 'u', email: 'u@example.com' }, { audience: 'api', expiresIn: 60 });
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({ iss: idp.issuer, sub: 'u', aud: 'api', email: 'u@example.com' });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(60);
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: idp.currentKid });
      expect(decodeJwt(await idp.mint({ sub: 'u' }, { expiresIn: false }))).not.toHaveProperty('exp');
      expect(decodeProtectedHeader(await idp.mint({ sub: 'u' }, { header: { kid: 'x' } })).kid).toBe('x');
    } finally {
      await idp.close();
    }
  });

  it('rotates keys: the new kid signs, the old one stays published and usable', async () => {
    const idp = await createDevIssuer();
    try {
      const first = idp.currentKid;
      const second = await idp.rotateKeys();
      expect(second).not.toBe(first);
      expect(idp.currentKid).toBe(second);
      expect(idp.jwks().keys.map((k) => k.kid)).toEqual([first, second]);
      expect(decodeProtectedHeader(await idp.mint({ sub: 'u' })).kid).toBe(second);
      expect(decodeProtectedHeader(await idp.mint({ sub: 'u' }, { kid: first })).kid).toBe(first);
      await expect(idp.mint({ sub: 'u' }, { kid: 'missing' })).rejects.toThrow();
    } finally {
      await idp.close();
    }
  });

  it('close() frees the port', async () => {
    const idp = await createDevIssuer();
    await fetch(idp.jwksUri);
    await idp.close();
    await expect(fetch(idp.jwksUri)).rejects.toThrow();
  });
});
