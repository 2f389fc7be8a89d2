import { describe, expect, it } from 'vitest';
import { InsufficientScopeError, toHttpResponse } from '../errors';
import type { ClientAuthResult, UserAuthResult, UserRecord } from '../types';
import { requireClaims, requirePermissions, requireRole, requireScopes, requireUser } from './guards';

const user: UserRecord = {
  id: 'u1',
  issuer: 'https://idp.test',
  subject: 's1',
  username: 'oidc:t:s1',
  email: null,
  name: null,
  role: 'admin',
  roleSource: 'local',
  tenantId: null,
  externalId: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  status: 'active',
  disabledAt: null,
  tokensValidAfter: null,
  lastSeenAt: null,
};
const auth = (claims: Record<string, unknown>, over: Partial<UserAuthResult> = {}): UserAuthResult => ({
  kind: 'user',
  user,
  identity: { issuer: user.issuer, subject: user.subject },
  claims: { iss: user.issuer, sub: user.subject, ...claims },
  created: false,
  ...over,
});

// The HTTP behaviour is proven through every framework by runGuardSuite; these pin the neutral contract.
describe('neutral guards', () => {
  it('answer null to let through, an error to refuse, and never throw', () => {
    expect(requireRole('admin')(auth({}))).toBeNull();
    expect(requireRole('owner')(auth({}))?.code).toBe('forbidden');
    expect(requireRole('admin')(undefined)?.code).toBe('missing_token');
    expect(requireRole('admin')(auth({}, { user: null }))?.code).toBe('forbidden');
    const hostile = auth({ scope: 1, scp: {}, permissions: 'p' });
    expect(requireScopes('a')(hostile)?.code).toBe('insufficient_scope');
    expect(requirePermissions('p')(hostile)?.code).toBe('forbidden');
    expect(
      requireClaims(() => {
        throw new TypeError('boom');
      })(hostile),
    ).toMatchObject({ code: 'forbidden', cause: expect.any(TypeError) });
  });

  it('insufficient_scope maps to 403 with the RFC 6750 challenge naming the required scopes', () => {
    const refusal = requireScopes(['a:read', 'b'], { match: 'any' })(auth({ scope: 'c' }));
    expect(refusal).toBeInstanceOf(InsufficientScopeError);
    const response = toHttpResponse(refusal);
    expect(response.status).toBe(403);
    expect(response.headers['WWW-Authenticate']).toBe('Bearer error="insufficient_scope", scope="a:read b"');
    expect(response.body.error).toBe('insufficient_scope');
  });

  it('the forbidden body names neither roles nor permissions', () => {
    const body = JSON.stringify([
      toHttpResponse(requireRole('secret-role')(auth({}))).body,
      toHttpResponse(requirePermissions('secret:perm')(auth({ permissions: [] }))).body,
    ]);
    expect(body).not.toMatch(/secret/);
  });

  it('copies its arguments, so a later change to the caller’s array cannot widen a guard', () => {
    const scopes = ['a'];
    const guard = requireScopes(scopes);
    scopes.push('b');
    expect(guard(auth({ scope: 'a' }))).toBeNull();
    const roles = ['owner'];
    const roleGuard = requireRole(...roles);
    roles.push('admin');
    expect(roleGuard(auth({}))?.code).toBe('forbidden');
  });
});

describe('neutral guards and machine clients', () => {
  const client = (claims: Record<string, unknown>): ClientAuthResult => ({
    kind: 'client',
    client: { id: 'svc', issuer: user.issuer, scopes: [] },
    user: null,
    identity: { issuer: user.issuer, subject: 'svc' },
    claims: { iss: user.issuer, sub: 'svc', client_id: 'svc', ...claims },
    created: false,
  });

  it('scopes, permissions and claims guards check a client by its token', () => {
    expect(requireScopes('a')(client({ scope: 'a' }))).toBeNull();
    expect(requireScopes('a')(client({ scope: 'b' }))?.code).toBe('insufficient_scope');
    expect(requirePermissions('p')(client({ permissions: ['p'] }))).toBeNull();
    expect(requirePermissions('p')(client({}))?.code).toBe('forbidden');
    expect(
      requireClaims((claims, a) => a.kind === 'client' && claims['tier'] === 'gold')(
        client({ tier: 'gold' }),
      ),
    ).toBeNull();
  });

  it('requireRole refuses a client unless { clients: true }; requireUser refuses it always', () => {
    expect(requireRole('admin')(client({}))?.code).toBe('forbidden');
    expect(requireRole(['admin'])(client({}))?.code).toBe('forbidden');
    expect(requireRole('admin', { clients: false })(client({}))?.code).toBe('forbidden');
    expect(requireRole(['admin'], { clients: true })(client({}))).toBeNull();
    expect(requireRole('admin', { clients: true })(auth({}))).toBeNull();
    expect(requireRole(['owner'], { clients: true })(auth({}))?.code).toBe('forbidden');
    expect(requireUser()(client({ scope: 'a' }))?.code).toBe('forbidden');
    expect(requireUser()(auth({}))).toBeNull();
    expect(requireUser()(auth({}, { user: null }))?.code).toBe('forbidden');
    expect(requireUser()(undefined)?.code).toBe('missing_token');
  });

  it('a "client" carrying a user is not a client any guard trusts', () => {
    const forged = { ...client({ scope: 'a' }), user } as unknown as ClientAuthResult;
    expect(requireScopes('a')(forged)?.code).toBe('forbidden');
  });

  it('requireRole options are checked at start-up', () => {
    expect(() => requireRole(['admin'], { clients: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(() => requireRole([], { clients: true })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
  });
});
