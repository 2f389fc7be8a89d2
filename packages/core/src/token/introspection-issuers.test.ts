import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createMemoryStore } from '@jit-provision/store-memory';
import { SignJWT } from 'jose';
import Provider, { type ResourceServer as ResourceServerShape } from 'oidc-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { answerRoute, type Route } from '../adapter';
import { backchannelLogout } from '../backchannel';
import { isJitProvisionError, toHttpResponse } from '../errors';
import { createProvisioner } from '../provisioning';
import type { IssuerConfig } from '../types';
import { verifiedFromAnswer } from './introspection-response';

// Several introspecting issuers (two real oidc-provider instances on loopback, and a dead endpoint), the cap on
// an active answer's reuse, and back-channel logout of an introspected session. Every introspection call is
// counted at the provider that receives it.

const RESOURCE = 'https://api.opaque.test';
const TOKEN_TTL_SEC = 3_600;
const silent = { warn: () => {}, error: () => {} };

interface Op {
  issuer: string;
  provider: Provider;
  server: Server;
  api: { id: string; secret: string };
  svc: { id: string; secret: string };
  /** The provider's signing key, private: logout tokens are signed with it, as the provider would. */
  signingJwk: Record<string, unknown>;
  introspections: number;
}

/**
 * A storage of one provider's own: oidc-provider's default in-memory adapter is shared by every instance in
 * the process, which would make one provider vouch for another's tokens.
 */
function ownAdapter() {
  const rows = new Map<string, Record<string, unknown>>();
  return class {
    constructor(private readonly model: string) {}
    private key = (id: string) => `${this.model}:${id}`;
    async upsert(id: string, payload: Record<string, unknown>) {
      rows.set(this.key(id), payload);
    }
    async find(id: string) {
      return rows.get(this.key(id));
    }
    async findByUid(uid: string) {
      return [...rows.values()].find((row) => row['uid'] === uid);
    }
    async findByUserCode(code: string) {
      return [...rows.values()].find((row) => row['userCode'] === code);
    }
    async consume(id: string) {
      const row = rows.get(this.key(id));
      if (row !== undefined) row['consumed'] = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      rows.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, row] of rows) if (row['grantId'] === grantId) rows.delete(key);
    }
  };
}

async function startOp(): Promise<Op> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const api = { id: 'orders-api', secret: randomBytes(24).toString('hex') };
  const svc = { id: 'billing-svc', secret: randomBytes(24).toString('hex') };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: `k-${randomBytes(4).toString('hex')}` };
  const provider = new Provider(issuer, {
    adapter: ownAdapter() as never,
    jwks: { keys: [{ ...signingJwk, use: 'sig', alg: 'RS256' }] as never },
    clients: [
      {
        client_id: api.id,
        client_secret: api.secret,
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
      {
        client_id: svc.id,
        client_secret: svc.secret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
        scope: 'orders:read',
      },
    ],
    scopes: ['openid', 'orders:read'],
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'orders:read',
          audience: RESOURCE,
          accessTokenFormat: 'opaque',
          accessTokenTTL: TOKEN_TTL_SEC,
        }),
      },
    },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  });
  const op: Op = { issuer, provider, server, api, svc, signingJwk, introspections: 0 };
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url === '/token/introspection') op.introspections++;
    callback(req, res);
  });
  return op;
}

const stop = (op: Op) => new Promise<void>((resolve) => op.server.close(() => resolve()));

/** A client-credentials token from the provider's token endpoint. */
async function clientToken(op: Op): Promise<string> {
  const res = await fetch(`${op.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${op.svc.id}:${op.svc.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: RESOURCE }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (body.access_token === undefined) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** An opaque user access token of the session `sid`, minted through the provider's own API (as its token endpoint would). */
async function userToken(op: Op, accountId: string, sid?: string): Promise<string> {
  const { provider } = op;
  const client = await provider.Client.find(op.svc.id);
  if (client === undefined) throw new Error('no client');
  const grant = new provider.Grant({ accountId, clientId: op.svc.id });
  grant.addResourceScope(RESOURCE, 'orders:read');
  const grantId = await grant.save();
  const { ResourceServer } = provider as unknown as {
    ResourceServer: new (id: string, info: object) => ResourceServerShape;
  };
  return new provider.AccessToken({
    accountId,
    grantId,
    gty: 'authorization_code',
    client,
    scope: 'orders:read',
    ...(sid === undefined ? {} : { sid }),
    resourceServer: new ResourceServer(RESOURCE, {
      audience: RESOURCE,
      scope: 'orders:read',
      accessTokenFormat: 'opaque',
      accessTokenTTL: TOKEN_TTL_SEC,
    }),
  }).save();
}

const introspecting = (op: Op, extra: Partial<IssuerConfig> = {}): IssuerConfig => ({
  issuer: op.issuer,
  audience: RESOURCE,
  introspection: { clientId: op.api.id, clientSecret: op.api.secret },
  ...extra,
});

function provisionerFor(issuers: IssuerConfig[], cache?: { ttlMs: number }) {
  const provisioner = createProvisioner({
    store: createMemoryStore(),
    issuers,
    logger: silent,
    ...(cache === undefined ? {} : { tokenCache: cache }),
  });
  const call = (token: string) => provisioner.authenticate({ headers: { authorization: `Bearer ${token}` } });
  return { provisioner, call };
}

/** The HTTP answer a call maps to. */
const answerOf = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ status: 200, code: undefined, reason: undefined }),
    (err: unknown) => ({
      status: toHttpResponse(err).status,
      code: isJitProvisionError(err) ? err.code : 'not ours',
      reason: (err as { reason?: unknown }).reason,
    }),
  );

let first: Op;
let second: Op;
/** An endpoint nothing listens on: connection refused. */
let deadEndpoint: string;

beforeAll(async () => {
  [first, second] = await Promise.all([startOp(), startOp()]);
  const dead = createServer();
  await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
  deadEndpoint = `http://127.0.0.1:${(dead.address() as { port: number }).port}/introspect`;
  await new Promise<void>((resolve) => dead.close(() => resolve()));
}, 30_000);
afterAll(() => Promise.all([first, second].filter(Boolean).map(stop)));
afterEach(() => vi.useRealTimers());

/** Introspection calls made at each provider while `run` runs. */
async function callsDuring(run: () => Promise<unknown>): Promise<[number, number]> {
  const before = [first.introspections, second.introspections] as const;
  await run();
  return [first.introspections - before[0], second.introspections - before[1]];
}

describe('several introspecting issuers (two oidc-provider instances)', () => {
  it('a token of the second issuer is accepted after the first answers inactive; one call each, then cached', async () => {
    const { call } = provisionerFor([introspecting(first), introspecting(second)]);
    const token = await userToken(second, `ann-${randomBytes(3).toString('hex')}`);
    let result: Awaited<ReturnType<typeof call>> | undefined;
    expect(
      await callsDuring(async () => {
        result = await call(token);
      }),
    ).toEqual([1, 1]);
    expect(result).toMatchObject({ kind: 'user', claims: { iss: second.issuer, aud: RESOURCE } });
    expect(await callsDuring(() => call(token))).toEqual([0, 0]);
    // The first issuer's own token is answered by the first; the second is never asked.
    const own = await clientToken(first);
    expect(await callsDuring(() => call(own))).toEqual([1, 0]);
  });

  it('a token no issuer knows costs exactly one call per issuer (401 inactive)', async () => {
    const { call } = provisionerFor([introspecting(first), introspecting(second)]);
    for (let i = 0; i < 5; i++) {
      const unknown = randomBytes(32).toString('base64url');
      let answer: Awaited<ReturnType<typeof answerOf>> | undefined;
      expect(
        await callsDuring(async () => {
          answer = await answerOf(call(unknown));
        }),
      ).toEqual([1, 1]);
      expect(answer).toMatchObject({ status: 401, code: 'invalid_token', reason: 'inactive' });
    }
  });

  it('an unreachable first issuer does not hide the second: its token is accepted, an unknown token is 503', async () => {
    const dead: IssuerConfig = {
      issuer: 'https://down.example',
      audience: RESOURCE,
      introspection: { endpoint: deadEndpoint, clientId: 'x', clientSecret: 'y' },
    };
    const { call } = provisionerFor([dead, introspecting(second)]);
    const token = await clientToken(second);
    expect(await call(token)).toMatchObject({ kind: 'client', client: { issuer: second.issuer } });
    // Neither live issuer knows it and the other cannot say: it cannot be told bad from good.
    expect(await answerOf(call(randomBytes(32).toString('base64url')))).toMatchObject({
      status: 503,
      code: 'provisioning_unavailable',
    });
  });
});

describe('the cap on reusing an active answer', () => {
  it('5 minutes at most, though cacheTtlMs, the token cache and exp would allow longer', async () => {
    const { call } = provisionerFor(
      [
        introspecting(first, {
          introspection: {
            clientId: first.api.id,
            clientSecret: first.api.secret,
            cacheTtlMs: 300_000,
          },
        }),
      ],
      { ttlMs: 3_600_000 },
    );
    const token = await userToken(first, `cap-${randomBytes(3).toString('hex')}`);
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    expect(await callsDuring(() => call(token))).toEqual([1, 0]);
    vi.setSystemTime(start + 299_000);
    expect(await callsDuring(() => call(token))).toEqual([0, 0]);
    vi.setSystemTime(start + 301_000);
    // Past the cap the provider is asked again (exp is an hour away, so the token is still active).
    expect(await callsDuring(() => call(token))).toEqual([1, 0]);
  });

  it('the computed reuse period is capped even when cacheTtlMs itself exceeds the cap', () => {
    const now = Date.now();
    const verified = verifiedFromAnswer(
      { active: true, sub: 'u', aud: RESOURCE, exp: Math.floor(now / 1000) + 86_400 },
      {
        config: { issuer: first.issuer, audience: RESOURCE },
        // Past the start-up check (which refuses it): the cap is enforced again where the period is computed.
        introspection: {
          endpoint: undefined,
          clientId: 'c',
          clientSecret: 's',
          privateKeyJwt: undefined,
          cacheTtlMs: 86_400_000,
          negativeCacheMs: 0,
        },
        clockToleranceSec: 5,
      },
      10,
      () => ({ issuer: first.issuer, subject: 'u' }) as never,
    );
    const until = verified.introspected?.cacheUntil as number;
    expect(until - now).toBeGreaterThan(0);
    expect(until - now).toBeLessThanOrEqual(300_000 + (Date.now() - now));
    expect(until - now).toBeGreaterThanOrEqual(299_000);
  });
});

describe('back-channel logout of an introspected session', () => {
  const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

  /** A logout token signed with the provider's key, as its back-channel logout would send it. */
  const logoutToken = (op: Op, claims: Record<string, unknown>) =>
    new SignJWT({ jti: randomBytes(8).toString('hex'), events: { [EVENT]: {} }, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: op.signingJwk['kid'] as string, typ: 'logout+jwt' })
      .setIssuer(op.issuer)
      .setAudience('app')
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(createPrivateKey({ key: op.signingJwk as never, format: 'jwk' }));

  it('a logout token with the sid of the answer refuses that token (cached) with session_revoked, not others', async () => {
    const { call, provisioner } = provisionerFor([
      introspecting(first, { backchannelLogout: { clientId: 'app' } }),
    ]);
    const [route] = backchannelLogout({ provisioner }).routes as [Route];
    const post = (body: unknown) => answerRoute(route, { headers: {}, query: {}, params: {}, body });
    const account = `lou-${randomBytes(3).toString('hex')}`;
    const sid = `sid-${randomBytes(4).toString('hex')}`;
    const token = await userToken(first, account, sid);
    const other = await userToken(first, account, `${sid}-other`);
    expect(await call(token)).toMatchObject({ kind: 'user', claims: { sid } });
    await call(other);
    const out = await post({ logout_token: await logoutToken(first, { sid }) });
    expect(out.status).toBe(200);
    const calls = await callsDuring(async () => {
      expect(await answerOf(call(token))).toMatchObject({
        status: 401,
        code: 'invalid_token',
        reason: 'session_revoked',
      });
    });
    // Refused from the cached answer: the provider (which knows nothing of the logout) is not asked.
    expect(calls).toEqual([0, 0]);
    expect((await call(other)).kind).toBe('user');
  });
});
