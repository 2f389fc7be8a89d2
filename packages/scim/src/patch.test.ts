import { describe, expect, it } from 'vitest';
import { ScimError } from './errors';
import { ENTERPRISE_URN, GROUP_URN, USER_URN } from './filter';
import { applyPatch, parsePatch, parsePatchPath } from './patch';

const SCHEMAS = ['urn:ietf:params:scim:api:messages:2.0:PatchOp'];
const patch = (resource: Record<string, unknown>, Operations: unknown[], urn = USER_URN) =>
  applyPatch(resource, parsePatch({ schemas: SCHEMAS, Operations }, urn), urn);
const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    return err instanceof ScimError ? `${err.status} ${err.scimType}` : String(err);
  }
  return 'no error';
};

const ada = () => ({
  schemas: [USER_URN],
  id: 'u1',
  userName: 'ada@example.com',
  active: true,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
});

describe('parsePatchPath', () => {
  it('attributes, sub-attributes, value paths, schema URNs, the enterprise extension with a colon', () => {
    expect(parsePatchPath('name.givenName', USER_URN)).toMatchObject({
      extension: false,
      name: 'name',
      sub: 'givenName',
    });
    expect(parsePatchPath(`${USER_URN}:userName`, USER_URN)).toMatchObject({ name: 'userName' });
    expect(parsePatchPath(`${ENTERPRISE_URN}:manager`, USER_URN)).toMatchObject({
      extension: true,
      name: 'manager',
    });
    expect(parsePatchPath('emails[type eq "work"].value', USER_URN)).toMatchObject({
      name: 'emails',
      filter: { op: 'eq', attribute: 'type', value: 'work' },
      sub: 'value',
    });
    expect(parsePatchPath('members[value eq "a]b"]', GROUP_URN)).toMatchObject({
      name: 'members',
      sub: undefined,
    });
    for (const bad of ['emails[type eq "work"', 'urn:example:other:thing', 'a b', 'emails[type eq "w"]x'])
      expect(refusal(() => parsePatchPath(bad, USER_URN))).toBe('400 invalidPath');
    expect(refusal(() => parsePatchPath('emails[type zz "w"]', USER_URN))).toBe('400 invalidFilter');
  });
});

describe('applyPatch', () => {
  it('op names in any case, "False" kept for the caller to read leniently, no path with a value object', () => {
    const out = patch(ada(), [{ op: 'Replace', value: { active: 'False', 'name.givenName': 'Augusta' } }]);
    expect(out).toMatchObject({ active: 'False', name: { givenName: 'Augusta', familyName: 'Lovelace' } });
  });

  it('the enterprise extension by a colon path and by a URN key', () => {
    const out = patch(ada(), [
      { op: 'add', path: `${ENTERPRISE_URN}:manager`, value: { value: 'boss' } },
      { op: 'Add', value: { [`${ENTERPRISE_URN}:department`]: 'R&D' } },
      { op: 'replace', value: { [ENTERPRISE_URN]: { employeeNumber: '7' } } },
    ]);
    expect(out[ENTERPRISE_URN]).toEqual({
      manager: { value: 'boss' },
      department: 'R&D',
      employeeNumber: '7',
    });
  });

  it('a filtered value path replaces the matching element, or creates it when missing', () => {
    const out = patch(ada(), [
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'lovelace@example.com' },
      { op: 'replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+441' },
      { op: 'add', path: 'addresses[type eq "work"].locality', value: 'London' },
    ]);
    expect(out['emails']).toEqual([{ value: 'lovelace@example.com', type: 'work', primary: true }]);
    expect(out['phoneNumbers']).toEqual([{ type: 'mobile', value: '+441' }]);
    expect(out['addresses']).toEqual([{ type: 'work', locality: 'London' }]);
    expect(
      refusal(() => patch(ada(), [{ op: 'replace', path: 'emails[type co "x"].value', value: 'x' }])),
    ).toBe('400 noTarget');
  });

  it('add on a single value replaces it; add on a list appends what is new; null removes', () => {
    const out = patch(ada(), [
      { op: 'add', path: 'userName', value: 'lovelace' },
      {
        op: 'add',
        path: 'emails',
        value: [{ value: 'ada@example.com' }, { value: 'home@example.com', type: 'home' }],
      },
      { op: 'replace', path: 'name', value: { familyName: null, formatted: 'Ada' } },
      { op: 'replace', path: 'title', value: null },
    ]);
    expect(out['userName']).toBe('lovelace');
    expect(out['emails']).toHaveLength(2);
    expect(out['name']).toEqual({ givenName: 'Ada', formatted: 'Ada' });
  });

  it('remove: an attribute, a sub-attribute, by filter, by a value list; without a path is noTarget', () => {
    const out = patch(ada(), [
      { op: 'remove', path: 'name.familyName' },
      { op: 'remove', path: 'emails[type eq "work"]' },
      { op: 'remove', path: 'nickName' },
    ]);
    expect(out['name']).toEqual({ givenName: 'Ada' });
    expect(out['emails']).toBeUndefined();
    expect(refusal(() => patch(ada(), [{ op: 'remove' }]))).toBe('400 noTarget');
  });

  it('group members: add, remove by filter (exact ids), remove by value list, replace', () => {
    const group = { displayName: 'Admins', members: [{ value: 'a' }, { value: 'B' }] };
    const added = patch(
      group,
      [{ op: 'add', path: 'members', value: [{ value: 'c' }, { value: 'a' }] }],
      GROUP_URN,
    );
    expect(added['members']).toEqual([{ value: 'a' }, { value: 'B' }, { value: 'c' }]);
    const removed = patch(
      added,
      [
        { op: 'remove', path: 'members[value eq "b"]' },
        { op: 'Remove', path: 'members', value: [{ value: 'a' }] },
      ],
      GROUP_URN,
    );
    expect(removed['members']).toEqual([{ value: 'B' }, { value: 'c' }]);
    const replaced = patch(removed, [{ op: 'replace', path: 'members', value: [{ value: 'z' }] }], GROUP_URN);
    expect(replaced['members']).toEqual([{ value: 'z' }]);
  });

  it('ignores read-only attributes; an empty PATCH changes nothing', () => {
    expect(patch(ada(), [{ op: 'replace', value: { id: 'other', meta: {} } }])).toEqual(ada());
    expect(patch(ada(), [])).toEqual(ada());
  });

  it('400 invalidSyntax for a body that is no PatchOp', () => {
    for (const body of [
      null,
      [],
      { Operations: 'x' },
      { schemas: ['urn:x'], Operations: [] },
      { Operations: [{ op: 'move' }] },
    ])
      expect(refusal(() => parsePatch(body, USER_URN))).toBe('400 invalidSyntax');
  });
});
