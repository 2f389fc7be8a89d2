import { describe, expect, it, vi } from 'vitest';
import { isJitProvisionError } from '../errors';
import { userKey } from '../identity';
import type { UserRecord } from '../types';
import { createAdmission } from './admission';
import { createUserCache } from './user-cache';

const user = (status: UserRecord['status']): UserRecord => ({
  id: 'u1',
  issuer: 'https://login.example.com',
  subject: 's1',
  username: 'oidc:x:s1',
  email: null,
  name: null,
  role: 'user',
  roleSource: 'default',
  tenantId: null,
  externalId: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  status,
  disabledAt: null,
  tokensValidAfter: null,
  lastSeenAt: null,
});

describe('createAdmission', () => {
  it('admits an active user (recording lastSeen) and refuses a disabled one (recording nothing)', () => {
    const seen = vi.fn();
    const { admit } = createAdmission(undefined, seen);
    expect(() => admit(user('active'))).not.toThrow();
    expect(seen).toHaveBeenCalledTimes(1);
    let caught: unknown;
    try {
      admit(user('disabled'));
    } catch (err) {
      caught = err;
    }
    expect(isJitProvisionError(caught, 'user_disabled')).toBe(true);
    expect(seen).toHaveBeenCalledTimes(1);
  });

  it('caches a row only when no invalidation came since the read started', () => {
    const users = createUserCache({ maxEntries: 10, ttlMs: 60_000 });
    const { remember } = createAdmission(users, undefined);
    const row = user('active');
    const before = users.generation;
    users.invalidate('someone-else');
    remember(row, before);
    expect(users.get(userKey(row))).toBeUndefined();
    remember(row, users.generation);
    expect(users.get(userKey(row))).toBe(row);
  });
});
