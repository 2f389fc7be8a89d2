import { describe, expect, it } from 'vitest';
import { isJitProvisionError } from '../errors';
import type { Identity, UserRecord } from '../types';
import { type RoleMappings, roleToSync, validatedIdentity } from './provider-role';

const issuer = 'https://login.example.com';
const mappings: RoleMappings = new Map([
  [issuer, { sync: 'login' as const, allow: new Set(['admin', 'user']) }],
  ['https://create-only.example.com', { sync: 'create' as const, allow: new Set(['admin']) }],
]);

const row = (role: string, roleSource: UserRecord['roleSource']): UserRecord => ({
  id: 'u1',
  issuer,
  subject: 's1',
  username: 'oidc:x:s1',
  email: null,
  name: null,
  role,
  roleSource,
  tenantId: null,
  externalId: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  status: 'active',
  disabledAt: null,
  tokensValidAfter: null,
  lastSeenAt: null,
});
const login = (providerRole?: string, from = issuer): Identity => ({
  issuer: from,
  subject: 's1',
  ...(providerRole === undefined ? {} : { providerRole }),
});

describe('roleToSync: the one rule for which provider role a login writes', () => {
  it('writes a mapped role that differs, or that the row holds from another source', () => {
    expect(roleToSync(mappings, row('user', 'provider'), login('admin'))).toBe('admin');
    expect(roleToSync(mappings, row('admin', 'default'), login('admin'))).toBe('admin');
  });

  it('writes nothing without a role, over a local role, when already in sync, or when the issuer syncs at creation only', () => {
    expect(roleToSync(mappings, row('user', 'provider'), login())).toBeUndefined();
    expect(roleToSync(mappings, row('user', 'local'), login('admin'))).toBeUndefined();
    expect(roleToSync(mappings, row('admin', 'provider'), login('admin'))).toBeUndefined();
    expect(
      roleToSync(mappings, row('user', 'provider'), login('admin', 'https://create-only.example.com')),
    ).toBeUndefined();
    expect(
      roleToSync(mappings, row('user', 'provider'), login('admin', 'https://unmapped.example.com')),
    ).toBeUndefined();
  });
});

describe('validatedIdentity', () => {
  it("accepts a providerRole only from the issuer's allow list", () => {
    expect(validatedIdentity(mappings, login('admin')).providerRole).toBe('admin');
    for (const identity of [login('root'), login('admin', 'https://unmapped.example.com')]) {
      let caught: unknown;
      try {
        validatedIdentity(mappings, identity);
      } catch (err) {
        caught = err;
      }
      expect(isJitProvisionError(caught, 'invalid_identity')).toBe(true);
    }
  });
});
