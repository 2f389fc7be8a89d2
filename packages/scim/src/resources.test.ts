import type { ScimUserRecord } from '@jit-provision/core';
import { describe, expect, it } from 'vitest';
import { ScimError } from './errors';
import { ENTERPRISE_URN, USER_URN } from './filter';
import { parseAttributePaths, project } from './projection';
import { displayNameOf, lenientBoolean, parseGroup, parseUser, primaryEmail, renderUser } from './resources';

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    return err instanceof ScimError ? `${err.status} ${err.scimType}` : String(err);
  }
  return 'no error';
};

describe('parseUser', () => {
  it('derives the email and name; drops password and the server-owned attributes; reads active leniently', () => {
    const { write, active } = parseUser({
      schemas: [USER_URN],
      id: 'client-chosen',
      UserName: 'ada@example.com',
      externalId: 'oid-1',
      password: 'Secret-1234',
      Active: 'False',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [
        { value: 'home@example.com', type: 'home' },
        { value: 'work@example.com', type: 'work' },
      ],
      meta: { resourceType: 'User' },
      title: 'Countess',
    });
    expect(write).toEqual({
      userName: 'ada@example.com',
      externalId: 'oid-1',
      attributes: {
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [
          { value: 'home@example.com', type: 'home' },
          { value: 'work@example.com', type: 'work' },
        ],
        title: 'Countess',
      },
      email: 'work@example.com',
      name: 'Ada Lovelace',
    });
    expect(active).toBe(false);
  });

  it('400 invalidValue: no userName, a non-boolean active, a non-string externalId; invalidSyntax for a non-object', () => {
    expect(refusal(() => parseUser({ externalId: 'x' }))).toBe('400 invalidValue');
    expect(refusal(() => parseUser({ userName: 'a', active: 'yes' }))).toBe('400 invalidValue');
    expect(refusal(() => parseUser({ userName: 'a', externalId: 5 }))).toBe('400 invalidValue');
    expect(refusal(() => parseUser([]))).toBe('400 invalidSyntax');
    expect(refusal(() => parseGroup({ members: [] }))).toBe('400 invalidValue');
    expect(refusal(() => parseGroup({ displayName: 'g', members: [{ display: 'no value' }] }))).toBe(
      '400 invalidValue',
    );
  });

  it('primary email first, then work, then the first; display name, then formatted, then given + family', () => {
    expect(
      primaryEmail([{ value: 'a' }, { value: 'b', type: 'work' }, { value: 'c', primary: 'True' }]),
    ).toBe('c');
    expect(primaryEmail([{ value: 'a' }])).toBe('a');
    expect(primaryEmail(undefined)).toBeNull();
    expect(displayNameOf({ displayName: 'D', name: { formatted: 'F' } })).toBe('D');
    expect(displayNameOf({ name: { formatted: 'F', givenName: 'G' } })).toBe('F');
    expect(displayNameOf({ name: { familyName: 'L' } })).toBe('L');
    expect(lenientBoolean('TRUE', 'active')).toBe(true);
  });
});

describe('renderUser and project', () => {
  const record = {
    user: { id: 'u1', externalId: 'oid-1', status: 'disabled' },
    userName: 'ada@example.com',
    attributes: {
      name: { givenName: 'Ada', familyName: 'L' },
      [ENTERPRISE_URN]: { department: 'R&D', costCenter: '7' },
    },
    version: 3,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    lastModified: new Date('2026-01-02T00:00:00Z'),
  } as unknown as ScimUserRecord;

  it('id is the user id, active from the status, meta with version and an absolute location under baseUrl', () => {
    expect(renderUser({ baseUrl: 'https://app.example.com/scim/v2' }, record, [])).toEqual({
      schemas: [USER_URN, ENTERPRISE_URN],
      id: 'u1',
      externalId: 'oid-1',
      userName: 'ada@example.com',
      name: { givenName: 'Ada', familyName: 'L' },
      [ENTERPRISE_URN]: { department: 'R&D', costCenter: '7' },
      active: false,
      groups: [],
      meta: {
        resourceType: 'User',
        created: '2026-01-01T00:00:00.000Z',
        lastModified: '2026-01-02T00:00:00.000Z',
        location: 'https://app.example.com/scim/v2/Users/u1',
        version: 'W/"3"',
      },
    });
  });

  it('attributes keeps the asked ones (sub-attributes, extension paths) and schemas, id, meta; excluded drops', () => {
    const resource = renderUser({ baseUrl: undefined }, record);
    const view = (attributes: string, excluded = '') => ({
      attributes: parseAttributePaths(attributes, USER_URN),
      excluded: parseAttributePaths(excluded, USER_URN),
    });
    expect(project(resource, view(`name.givenName,${ENTERPRISE_URN}:department,id`))).toEqual({
      schemas: resource['schemas'],
      id: 'u1',
      meta: resource['meta'],
      name: { givenName: 'Ada' },
      [ENTERPRISE_URN]: { department: 'R&D' },
    });
    const slim = project(resource, view('', `${USER_URN}:name,id,${ENTERPRISE_URN}:costCenter`));
    expect(slim['name']).toBeUndefined();
    expect(slim['id']).toBe('u1');
    expect(slim[ENTERPRISE_URN]).toEqual({ department: 'R&D' });
  });
});
