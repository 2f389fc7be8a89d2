import { createMemoryStore } from '@jit-provision/store-memory';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { authenticateRequest } from '../adapter';
import { createDevIssuer, type DevIssuer } from '../dev';
import { InvalidTokenError, StoreUnavailableError } from '../errors';
import { createProvisioner } from '../provisioning';
import type { Store } from '../store';
import type { IssuerConfig, Logger } from '../types';
import { createDiagnostics } from './diagnostics';

let idp: DevIssuer;
beforeAll(async () => {
  idp = await createDevIssuer();
});
afterAll(() => idp.close());

const spyLogger = () => ({ warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>() });

function setup(issuers: IssuerConfig[], store: Store = createMemoryStore()) {
  const logger = spyLogger();
  const provisioner = createProvisioner({ store, issuers, logger, tokenCache: false });
  const request = (token: string) =>
    authenticateRequest(provisioner, {
      headers: { authorization: `Bearer ${token}` },
      path: '/',
      method: 'GET',
    });
  return { logger, provisioner, request };
}

describe('refused tokens are logged once per cause, with what was expected', () => {
  it('100 wrong-audience requests: one log line with the expected and the received aud, no token', async () => {
    const { logger, request } = setup([{ issuer: idp.issuer, audience: 'api' }]);
    const token = await idp.mint({ sub: 'alice', email: 'alice@example.com' }, { audience: 'web' });
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => request(token)));
    expect(outcomes.every((o) => !o.ok && o.response.status === 401)).toBe(true);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
    const [fields] = logger.warn.mock.calls[0] ?? [];
    expect(fields).toMatchObject({
      reason: 'wrong_audience',
      issuer: idp.issuer,
      claim: 'aud',
      expected: ['api'],
      received: ['web'],
    });
    const logged = JSON.stringify(logger.warn.mock.calls);
    expect(logged).not.toContain(token.split('.')[1]);
    expect(logged).not.toContain('alice');
  });

  it('an issuer configured with a trailing slash: "did you mean" the token\'s exact iss', async () => {
    const { logger, request } = setup([{ issuer: `${idp.issuer}/`, audience: 'api' }]);
    const token = await idp.mint({ sub: 'bob' });
    for (let i = 0; i < 10; i++) expect((await request(token)).ok).toBe(false);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    const [fields, message] = logger.warn.mock.calls[0] ?? [];
    expect(fields).toMatchObject({
      reason: 'untrusted_issuer',
      claim: 'iss',
      expected: [`${idp.issuer}/`],
      received: [idp.issuer],
    });
    // The suggestion is the token's iss (what works), never the value already configured.
    const suggestion = `did you mean ${JSON.stringify(idp.issuer)}?`;
    expect(fields?.['hint']).toContain(suggestion);
    expect(fields?.['hint']).toContain('trailing slash');
    expect(message).toContain(suggestion);
    expect(message).not.toContain(`did you mean ${JSON.stringify(`${idp.issuer}/`)}`);
  });

  it('a scheme mismatch in aud gets a "did you mean" too', async () => {
    const { logger, request } = setup([{ issuer: idp.issuer, audience: 'https://api.example.com' }]);
    expect((await request(await idp.mint({ sub: 'c' }, { audience: 'http://api.example.com' }))).ok).toBe(
      false,
    );
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]?.['hint']).toContain('scheme');
    expect(logger.warn.mock.calls[0]?.[0]?.['hint']).toContain('did you mean "http://api.example.com"?');
  });

  it('a flood of untrusted issuers is one line, not one per attacker-chosen iss', async () => {
    const { logger, request } = setup([{ issuer: idp.issuer, audience: 'api' }]);
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => idp.mint({ sub: 'x', iss: `https://evil-${i}.example` })),
    );
    await Promise.all(tokens.map(request));
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('expired tokens are the client’s business: not logged', async () => {
    const { logger, request } = setup([{ issuer: idp.issuer, audience: 'api' }]);
    await request(await idp.mint({ sub: 'late' }, { expiresIn: -60, audience: 'api' }));
    expect(logger.warn).not.toHaveBeenCalled();
  });
});

describe('createDiagnostics', () => {
  it('logs a cause again once the interval has passed, and distinct causes each once', () => {
    const logger = spyLogger();
    let clock = 0;
    const diagnostics = createDiagnostics(logger, { intervalMs: 1_000, now: () => clock });
    const wrongAud = new InvalidTokenError('wrong_audience', undefined, {
      mismatch: { claim: 'aud', expected: ['api'], received: ['web'] },
    });
    const down = new StoreUnavailableError('x', { reason: 'unreachable', cause: { code: 'ECONNREFUSED' } });
    for (let i = 0; i < 5; i++) {
      diagnostics.note(wrongAud, { issuer: 'https://a' });
      diagnostics.note(wrongAud, { issuer: 'https://b' });
      diagnostics.note(down);
    }
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0]?.[0]).toMatchObject({
      reason: 'unreachable',
      causeCode: 'ECONNREFUSED',
    });
    clock = 999;
    diagnostics.note(down);
    expect(logger.error).toHaveBeenCalledTimes(1);
    clock = 1_000;
    diagnostics.note(down);
    expect(logger.error).toHaveBeenCalledTimes(2);
  });
});

describe('provisioner.check()', () => {
  it('a dev issuer and the memory store: ok, one entry each', async () => {
    const { provisioner } = setup([{ issuer: idp.issuer, audience: 'api' }]);
    const report = await provisioner.check();
    expect(report.ok).toBe(true);
    expect(report.checks).toEqual([
      { name: `issuer ${idp.issuer}`, ok: true, detail: expect.stringContaining('1 key') },
      { name: 'store', ok: true, detail: expect.any(String) },
    ]);
  });

  it('reports an issuer whose discovery names another issuer, and one that is down, without throwing', async () => {
    const gone = await createDevIssuer();
    await gone.close();
    const { provisioner } = setup([
      { issuer: `${idp.issuer}/`, audience: 'api' },
      { issuer: gone.issuer, audience: 'api' },
    ]);
    const report = await provisioner.check();
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      [`issuer ${idp.issuer}/`, false],
      [`issuer ${gone.issuer}`, false],
      ['store', true],
    ]);
    expect(report.checks[0]?.detail).toContain(`did you mean ${JSON.stringify(idp.issuer)}?`);
  });

  it('one "did you mean" for a trailing-slash issuer: check() and a refused token suggest the same value', async () => {
    const { provisioner, request, logger } = setup([{ issuer: `${idp.issuer}/`, audience: 'api' }]);
    const [entry] = (await provisioner.check()).checks;
    expect((await request(await idp.mint({ sub: 'slash' }, { audience: 'api' }))).ok).toBe(false);
    const hint = logger.warn.mock.calls[0]?.[0]?.['hint'];
    expect(typeof hint).toBe('string');
    expect(entry?.detail).toContain(`(${hint as string})`);
  });

  it("a store's failing check is the store entry's, with its detail", async () => {
    const store: Store = {
      ...createMemoryStore(),
      check: async () => ({ ok: false, detail: 'schema behind' }),
    };
    const report = await setup([], store).provisioner.check();
    expect(report).toEqual({ ok: false, checks: [{ name: 'store', ok: false, detail: 'schema behind' }] });
  });
});
