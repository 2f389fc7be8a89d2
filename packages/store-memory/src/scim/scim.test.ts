import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../index';
import { matches } from './filter';

const issuer = 'https://idp.test';
const write = (userName: string, externalId: string) => ({
  issuer,
  subject: null,
  userName,
  externalId,
  attributes: {},
  email: null,
  name: null,
  username: `scim:${userName}`,
  role: 'user',
});

describe('memory scim part', () => {
  it('clear() drops SCIM users, groups and both uniqueness indexes', async () => {
    const store = createMemoryStore();
    await store.scim.createUser(write('ada', 'e1'));
    await store.scim.createGroup(issuer, { displayName: 'G', externalId: null, attributes: {} });
    store.clear();
    expect(await store.scim.status()).toEqual({ users: 0, groups: 0, lastWrite: null });
    expect((await store.scim.createUser(write('ada', 'e1'))).created).toBe(true);
    await store.scim.createGroup(issuer, { displayName: 'G', externalId: null, attributes: {} });
  });

  it('a confirm (createUser mode) never writes an externalId another row of the issuer has', async () => {
    const store = createMemoryStore();
    await store.scim.createUser(write('ada', 'e1'));
    const key = { issuer, subject: 'sub-1' };
    const reservation = await store.reservations.reserve(key, { leaseMs: 60_000 });
    const input = { ...key, username: 'oidc:x:sub-1', role: 'user', externalId: 'e1' };
    await expect(
      store.reservations.confirm(input, reservation, '00000000-0000-4000-8000-000000000001'),
    ).rejects.toMatchObject({ code: 'scim_conflict', attribute: 'externalId' });
  });

  it('eq null matches an absent attribute, ne null a present one', () => {
    const subject = {
      get: (a: string) =>
        a === 'displayName' ? { kind: 'string' as const, value: 'x', caseExact: false } : undefined,
      elements: () => [],
    };
    expect(matches({ op: 'eq', attribute: 'externalId', value: null }, subject)).toBe(true);
    expect(matches({ op: 'ne', attribute: 'displayName', value: null }, subject)).toBe(true);
    expect(matches({ op: 'eq', attribute: 'displayName', value: null }, subject)).toBe(false);
    expect(matches({ op: 'gt', attribute: 'displayName', value: true }, subject)).toBe(false);
  });
});
