import { randomUUID } from 'node:crypto';
import {
  ScimConflictError,
  type ScimGroupFilterAttribute,
  type ScimGroupWrite,
  type ScimStore,
} from '@jit-provision/core';
import { type FilterSubject, matches, text } from './filter';
import { byCreation, type GroupState, groupRecord, page, type ScimState } from './state';

/** How a filter reads a group; its members are elements with a case-exact `value` (the user id). */
function groupSubject(state: ScimState, group: GroupState): FilterSubject<ScimGroupFilterAttribute> {
  return {
    get(attribute) {
      switch (attribute) {
        case 'id':
          return text(group.id, true);
        case 'displayName':
          return text(group.displayName, false);
        case 'externalId':
          return text(group.externalId, true);
        case 'meta.created':
          return { kind: 'date', value: group.createdAt };
        case 'meta.lastModified':
          return { kind: 'date', value: group.lastModified };
      }
    },
    elements: (attribute) =>
      attribute !== 'members'
        ? []
        : groupRecord(state, group).members.map((id) => (a) => (a === 'value' ? text(id, true) : undefined)),
  };
}

/** The groups half of the memory store's `scim` part: every method is one synchronous step. */
export function scimGroups(
  state: ScimState,
): Pick<
  ScimStore,
  'createGroup' | 'getGroup' | 'findGroups' | 'replaceGroup' | 'changeMembers' | 'deleteGroup' | 'groupsOf'
> {
  /** Only visible SCIM users of the group's issuer can be members; other ids are ignored. */
  const members = (issuer: string, ids: readonly string[]) =>
    ids.filter((id) => state.visible(issuer, id) !== undefined);
  const find = (issuer: string, id: string) => {
    const group = state.groups.get(id);
    return group?.issuer === issuer ? group : undefined;
  };
  const touch = (group: GroupState) => {
    group.version += 1;
    group.lastModified = new Date();
  };
  const write = (group: GroupState, input: ScimGroupWrite) => {
    const previousName = group.displayName;
    group.displayName = input.displayName;
    group.externalId = input.externalId;
    group.attributes = structuredClone({ ...input.attributes });
    if (input.members !== undefined) group.members = new Set(members(group.issuer, input.members));
    state.indexGroup(group, previousName);
  };

  return {
    async createGroup(issuer, input) {
      state.checkDisplayName(issuer, input.displayName);
      const now = new Date();
      const group: GroupState = {
        id: randomUUID(),
        issuer,
        displayName: input.displayName,
        externalId: null,
        attributes: {},
        members: new Set(),
        version: 1,
        createdAt: now,
        lastModified: now,
      };
      write(group, input);
      state.groups.set(group.id, group);
      return groupRecord(state, group);
    },

    async getGroup(issuer, id) {
      const group = find(issuer, id);
      return group === undefined ? null : groupRecord(state, group);
    },

    async findGroups(issuer, query) {
      const found = [...state.groups.values()].filter(
        (group) =>
          group.issuer === issuer &&
          (query.filter === undefined || matches(query.filter, groupSubject(state, group))),
      );
      return page(found.sort(byCreation), query, (group) => groupRecord(state, group));
    },

    async replaceGroup(issuer, id, input, options) {
      const group = find(issuer, id);
      if (group === undefined) return null;
      if (options?.ifVersion !== undefined && options.ifVersion !== group.version)
        throw new ScimConflictError('version');
      state.checkDisplayName(issuer, input.displayName, id);
      write(group, input);
      touch(group);
      return groupRecord(state, group);
    },

    async changeMembers(issuer, id, change) {
      const group = find(issuer, id);
      if (group === undefined) return null;
      for (const member of members(issuer, change.add ?? [])) group.members.add(member);
      for (const member of change.remove ?? []) group.members.delete(member);
      touch(group);
      return groupRecord(state, group);
    },

    async deleteGroup(issuer, id) {
      const group = find(issuer, id);
      if (group === undefined) return false;
      state.groups.delete(id);
      state.unindexGroup(group);
      return true;
    },

    async groupsOf(issuer, userId) {
      if (state.visible(issuer, userId) === undefined) return [];
      return [...state.groups.values()]
        .filter((group) => group.issuer === issuer && group.members.has(userId))
        .sort(byCreation)
        .map((group) => groupRecord(state, group));
    },
  };
}
