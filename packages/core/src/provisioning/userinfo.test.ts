import { createServer, type Server } from 'node:http';
import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJitProvisionError } from '../errors';
import { createProvisioner } from './provisioner';

// A minimal provider on loopback: discovery, an introspection endpoint vouching for any token as `alice`, and a
// userinfo endpoint whose answer each test sets.
let server: Server;
let issuer: string;
let userinfo: { status: number; body: unknown } = { status: 200, body: {} };

beforeAll(async () => {
  server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        introspection_endpoint: `${issuer}/introspect`,
        userinfo_endpoint: `${issuer}/userinfo`,
      });
    }
    if (req.url === '/introspect')
      return json(200, { active: true, sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 });
    return json(userinfo.status, userinfo.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const login = () => {
  const provisioner = createProvisioner({
    store: createMemoryStore(),
    issuers: [
      {
        issuer,
        audience: false,
        userinfo: 'first-login',
        introspection: { clientId: 'api', clientSecret: 's' },
      },
    ],
    logger: { warn: () => {}, error: () => {} },
  });
  return provisioner.authenticate({ headers: { authorization: 'Bearer opaque-token' } }).then(
    (result) => result,
    (err: unknown) =>
      isJitProvisionError(err) ? { code: err.code, reason: (err as { reason?: unknown }).reason } : err,
  );
};

describe('userinfo at first login', () => {
  it("refuses the login when the userinfo `sub` is not the token's (401 invalid_token)", async () => {
    userinfo = { status: 200, body: { sub: 'mallory', email: 'm@example.com' } };
    expect(await login()).toEqual({ code: 'invalid_token', reason: 'invalid_claim' });
  });

  it('a failing userinfo endpoint is 503 provisioning_unavailable, not a user without a profile', async () => {
    userinfo = { status: 500, body: {} };
    expect(await login()).toEqual({ code: 'provisioning_unavailable', reason: 'provider_unavailable' });
  });

  it('a matching `sub` fills the profile', async () => {
    userinfo = { status: 200, body: { sub: 'alice', email: 'alice@example.com', name: 'Alice' } };
    expect(await login()).toMatchObject({
      created: true,
      user: { email: 'alice@example.com', name: 'Alice' },
    });
  });
});
