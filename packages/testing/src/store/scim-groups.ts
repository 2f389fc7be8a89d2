import type { ScimGroupRecord, Store } from '@jit-provision/core';
import { expect, it } from 'vitest';
import { freshIssuer, NOT_A_UUID, type ScimContext, scimUser, UNKNOWN_UUID, unique } from './scim-context';

const sorted = (ids: readonly string[] | undefined) => [...(ids ?? [])].sort();
const noGroup = { externalId: null, attributes: {} };

/** A fresh issuer with `n` SCIM users; their ids. */
async function usersOf<S extends Store>(cases: ScimContext<S>, n: number) {
  const issuer = freshIssuer();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await cases.scim.createUser(scimUser(issuer))).record.user.id);
  return { issuer, ids };
}

/** Group reads and writes: round trip, displayName per issuer, members of the issuer only. */
function scimGroupWriteCases<S extends Store>(cases: ScimContext<S>): void {
  it('createGroup keeps what SCIM wrote; members are users of the issuer only, unknown ids ignored', async () => {
    const { scim } = cases;
    const { issuer, ids } = await usersOf(cases, 3);
    const [a, b, hidden] = ids as [string, string, string];
    await scim.hideUser(issuer, hidden);
    const stranger = (await scim.createUser(scimUser(freshIssuer()))).record.user.id;
    const attributes = { description: 'Everyone in analytics' };
    const group = await scim.createGroup(issuer, {
      displayName: 'Analytics',
      externalId: unique('gext'),
      attributes,
      members: [a, b, hidden, stranger, UNKNOWN_UUID, NOT_A_UUID],
    });
    expect(group).toMatchObject({ issuer, displayName: 'Analytics', attributes, version: 1 });
    expect(sorted(group.members)).toEqual(sorted([a, b]));
    const read = await scim.getGroup(issuer, group.id);
    expect({ ...read, members: sorted(read?.members) }).toEqual({ ...group, members: sorted(group.members) });
    expect(await scim.getGroup(freshIssuer(), group.id)).toBeNull();
    expect(await scim.getGroup(issuer, UNKNOWN_UUID)).toBeNull();
    expect(await scim.getGroup(issuer, NOT_A_UUID)).toBeNull();
  });

  it('displayName is unique per issuer: scim_conflict on displayName, on create and on rename', async () => {
    const { scim } = cases;
    const issuer = freshIssuer();
    await scim.createGroup(issuer, { displayName: 'Admins', ...noGroup });
    await expect(scim.createGroup(issuer, { displayName: 'Admins', ...noGroup })).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'displayName',
    });
    const other = await scim.createGroup(issuer, { displayName: 'Users', ...noGroup });
    await expect(
      scim.replaceGroup(issuer, other.id, { displayName: 'Admins', ...noGroup }),
    ).rejects.toMatchObject({ code: 'scim_conflict', attribute: 'displayName' });
    expect((await scim.createGroup(freshIssuer(), { displayName: 'Admins', ...noGroup })).displayName).toBe(
      'Admins',
    );
  });

  it('replaceGroup replaces members when given, keeps them otherwise; ifVersion; absent is null', async () => {
    const { scim } = cases;
    const { issuer, ids } = await usersOf(cases, 3);
    const [a, b, c] = ids as [string, string, string];
    const group = await scim.createGroup(issuer, { displayName: 'Team', ...noGroup, members: [a, b] });
    const kept = await scim.replaceGroup(issuer, group.id, {
      displayName: 'Team 2',
      externalId: 'g-2',
      attributes: { x: 1 },
    });
    expect(kept).toMatchObject({
      displayName: 'Team 2',
      externalId: 'g-2',
      attributes: { x: 1 },
      version: 2,
    });
    expect(sorted(kept?.members)).toEqual(sorted([a, b]));
    const replaced = await scim.replaceGroup(
      issuer,
      group.id,
      { displayName: 'Team 2', ...noGroup, members: [c] },
      { ifVersion: 2 },
    );
    expect(replaced?.members).toEqual([c]);
    await expect(
      scim.replaceGroup(issuer, group.id, { displayName: 'Team 3', ...noGroup }, { ifVersion: 2 }),
    ).rejects.toMatchObject({ code: 'scim_conflict', attribute: 'version' });
    expect(await scim.replaceGroup(issuer, UNKNOWN_UUID, { displayName: 'X', ...noGroup })).toBeNull();
    expect(await scim.replaceGroup(freshIssuer(), group.id, { displayName: 'X', ...noGroup })).toBeNull();
  });

  it('changeMembers adds and removes in one step; 20 parallel adds lose none; a hidden user leaves', async () => {
    const { scim } = cases;
    const { issuer, ids } = await usersOf(cases, 22);
    const [a, b, ...rest] = ids as [string, string, ...string[]];
    const group = await scim.createGroup(issuer, { displayName: 'Crowd', ...noGroup, members: [a] });
    const changed = await scim.changeMembers(issuer, group.id, { add: [b, NOT_A_UUID], remove: [a] });
    expect(changed?.members).toEqual([b]);
    expect(changed?.version).toBeGreaterThan(group.version);
    await Promise.all(rest.map((id) => scim.changeMembers(issuer, group.id, { add: [id] })));
    expect(sorted((await scim.getGroup(issuer, group.id))?.members)).toEqual(sorted([b, ...rest]));
    await scim.hideUser(issuer, b);
    expect((await scim.getGroup(issuer, group.id))?.members).not.toContain(b);
    expect(await scim.changeMembers(issuer, UNKNOWN_UUID, { add: [a] })).toBeNull();
  });

  it('groupsOf lists a member’s groups; deleteGroup removes the group and its memberships', async () => {
    const { scim } = cases;
    const { issuer, ids } = await usersOf(cases, 2);
    const [a, b] = ids as [string, string];
    const one = await scim.createGroup(issuer, { displayName: 'One', ...noGroup, members: [a, b] });
    const two = await scim.createGroup(issuer, { displayName: 'Two', ...noGroup, members: [a] });
    const names = (groups: ScimGroupRecord[]) => groups.map((g) => g.displayName).sort();
    expect(names(await scim.groupsOf(issuer, a))).toEqual(['One', 'Two']);
    expect(names(await scim.groupsOf(issuer, b))).toEqual(['One']);
    expect(await scim.groupsOf(freshIssuer(), a)).toEqual([]);
    expect(await scim.deleteGroup(issuer, one.id)).toBe(true);
    expect(await scim.deleteGroup(issuer, one.id)).toBe(false);
    expect(await scim.getGroup(issuer, one.id)).toBeNull();
    expect(names(await scim.groupsOf(issuer, a))).toEqual(['Two']);
    expect(await scim.groupsOf(issuer, b)).toEqual([]);
    expect(await scim.deleteGroup(freshIssuer(), two.id)).toBe(false);
    expect((await scim.createGroup(issuer, { displayName: 'One', ...noGroup })).members).toEqual([]);
  });
}

/** Group filters and paging. */
function scimGroupQueryCases<S extends Store>(cases: ScimContext<S>): void {
  it('findGroups: displayName case-insensitively, externalId, members by value, pr, paging', async () => {
    const { scim } = cases;
    const { issuer, ids } = await usersOf(cases, 2);
    const [a, b] = ids as [string, string];
    const admins = await scim.createGroup(issuer, {
      displayName: 'App Admins',
      externalId: 'g-admins',
      attributes: {},
      members: [a],
    });
    const users = await scim.createGroup(issuer, { displayName: 'App Users', ...noGroup, members: [a, b] });
    const find = async (filter: Parameters<typeof scim.findGroups>[1]['filter']) =>
      (await scim.findGroups(issuer, { filter, startIndex: 1, count: 100 })).resources
        .map((g) => g.displayName)
        .sort();
    expect(await find({ op: 'eq', attribute: 'displayName', value: 'app admins' })).toEqual(['App Admins']);
    expect(await find({ op: 'eq', attribute: 'externalId', value: 'g-admins' })).toEqual(['App Admins']);
    expect(await find({ op: 'pr', attribute: 'externalId' })).toEqual(['App Admins']);
    expect(await find({ op: 'sw', attribute: 'displayName', value: 'app' })).toEqual([
      'App Admins',
      'App Users',
    ]);
    expect(
      await find({ op: 'some', attribute: 'members', filter: { op: 'eq', attribute: 'value', value: b } }),
    ).toEqual(['App Users']);
    expect(await find({ op: 'eq', attribute: 'id', value: users.id })).toEqual(['App Users']);
    expect(await find(undefined)).toEqual(['App Admins', 'App Users']);
    expect(await scim.findGroups(issuer, { startIndex: 1, count: 0 })).toEqual({
      totalResults: 2,
      resources: [],
    });
    const second = await scim.findGroups(issuer, { startIndex: 2, count: 1 });
    const first = await scim.findGroups(issuer, { startIndex: 1, count: 1 });
    expect(second.totalResults).toBe(2);
    expect(new Set([first.resources[0]?.id, second.resources[0]?.id])).toEqual(
      new Set([admins.id, users.id]),
    );
  });
}

/** The groups cases of the `scim` suite. */
export function scimGroupCases<S extends Store>(cases: ScimContext<S>): void {
  scimGroupWriteCases(cases);
  scimGroupQueryCases(cases);
}
