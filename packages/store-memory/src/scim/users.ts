import { randomUUID } from 'node:crypto';
import {
  type NewUser,
  ScimConflictError,
  type ScimNewUser,
  type ScimStore,
  type ScimUserFilterAttribute,
  type UserRecord,
} from '@jit-provision/core';
import { userKey as keyOf } from '@jit-provision/core/adapter';
import type { MemoryOutbox } from '../outbox';
import { copy, externalKey } from '../table';
import { element, type FilterSubject, type FilterValue, matches, text } from './filter';
import { byCreation, page, type ScimState, userRecord, type VisibleUser } from './state';

/** How a filter reads a user: the row's columns and the attributes SCIM wrote. */
function userSubject({ user, scim }: VisibleUser): FilterSubject<ScimUserFilterAttribute> {
  const name = scim.attributes['name'];
  const part = (key: string) =>
    text(
      typeof name === 'object' && name !== null ? (name as Record<string, unknown>)[key] : undefined,
      false,
    );
  const get = (attribute: ScimUserFilterAttribute): FilterValue => {
    switch (attribute) {
      case 'id':
        return text(user.id, true);
      case 'userName':
        return text(scim.userName, false);
      case 'externalId':
        return text(user.externalId, true);
      case 'displayName':
        return text(scim.attributes['displayName'], false);
      case 'active':
        return { kind: 'boolean', value: user.status === 'active' };
      case 'name.givenName':
        return part('givenName');
      case 'name.familyName':
        return part('familyName');
      case 'name.formatted':
        return part('formatted');
      case 'meta.created':
        return { kind: 'date', value: scim.createdAt };
      case 'meta.lastModified':
        return { kind: 'date', value: scim.lastModified };
    }
  };
  const emails = scim.attributes['emails'];
  return {
    get,
    elements: (attribute) => (attribute === 'emails' && Array.isArray(emails) ? emails.map(element) : []),
  };
}

/**
 * The row a SCIM create adopts instead of creating one: the row of the issuer with this `externalId` (a first
 * login's, or one hidden by a SCIM DELETE), or the row of the known subject. A visible SCIM user there, or a row
 * bound to another person, is a conflict.
 */
function adoptable(state: ScimState, input: ScimNewUser): UserRecord | undefined {
  const { table } = state;
  const byExternal =
    input.externalId === null
      ? undefined
      : table.byExternalId.get(externalKey(input.issuer, input.externalId));
  const bySubject =
    input.subject === null
      ? undefined
      : table.byKey.get(keyOf({ issuer: input.issuer, subject: input.subject }));
  const row = byExternal ?? bySubject;
  if (row === undefined) return undefined;
  const otherPerson = row.subject !== '' && input.subject !== null && row.subject !== input.subject;
  const otherExternalId = row.externalId !== null && row.externalId !== input.externalId;
  if (otherPerson || otherExternalId || state.visible(input.issuer, row.id) !== undefined)
    throw new ScimConflictError('externalId');
  return row;
}

function adopt(state: ScimState, row: UserRecord, input: ScimNewUser): VisibleUser {
  if (input.subject !== null && row.subject === '') state.table.bind(row, input.subject, input.username);
  // A login row made before the issuer had an `externalIdClaim`, found by its subject, gets it now.
  state.table.setExternalId(row, input.externalId ?? row.externalId);
  state.table.applyPatch(row, { email: input.email, name: input.name });
  const before = state.users.get(row.id);
  const now = new Date();
  const scim = {
    userName: input.userName,
    attributes: structuredClone({ ...input.attributes }),
    version: (before?.version ?? 0) + 1,
    createdAt: before?.createdAt ?? now,
    lastModified: now,
    hidden: false,
  };
  state.setUser(row, scim);
  return { user: row, scim };
}

function insert(state: ScimState, input: ScimNewUser): VisibleUser {
  const row: NewUser = {
    issuer: input.issuer,
    subject: input.subject ?? '',
    username: input.username,
    role: input.role,
    roleSource: input.roleSource,
    email: input.email,
    name: input.name,
    tenantId: null,
    ...(input.externalId === null ? {} : { externalId: input.externalId }),
    ...(input.emitEvent === undefined ? {} : { emitEvent: input.emitEvent }),
  };
  const user = state.table.insert(row, randomUUID());
  const now = new Date();
  const scim = {
    userName: input.userName,
    attributes: structuredClone({ ...input.attributes }),
    version: 1,
    createdAt: now,
    lastModified: now,
    hidden: false,
  };
  state.setUser(user, scim);
  return { user, scim };
}

/** The users half of the memory store's `scim` part: every method is one synchronous step. */
export function scimUsers(
  state: ScimState,
  outbox: MemoryOutbox,
): Pick<ScimStore, 'createUser' | 'bind' | 'getUser' | 'findUsers' | 'replaceUser' | 'hideUser'> {
  const { table } = state;
  return {
    async createUser(input) {
      const row = adoptable(state, input);
      state.checkUserName(input.issuer, input.userName, row?.id);
      if (row !== undefined) return { record: userRecord(adopt(state, row, input)), created: false };
      return { record: userRecord(insert(state, input)), created: true };
    },

    async bind(key) {
      const row = table.byExternalId.get(externalKey(key.issuer, key.externalId));
      if (row === undefined) return null;
      if (row.subject === key.subject) return copy(row);
      if (row.subject !== '') return null;
      return copy(table.bind(row, key.subject, key.username));
    },

    async getUser(issuer, id) {
      const found = state.visible(issuer, id);
      return found === undefined ? null : userRecord(found);
    },

    async findUsers(issuer, query) {
      const found: Array<VisibleUser & { id: string; createdAt: Date }> = [];
      for (const id of state.users.keys()) {
        const user = state.visible(issuer, id);
        if (user === undefined) continue;
        if (query.filter !== undefined && !matches(query.filter, userSubject(user))) continue;
        found.push({ ...user, id, createdAt: user.scim.createdAt });
      }
      return page(found.sort(byCreation), query, userRecord);
    },

    async replaceUser(issuer, id, write, options) {
      const found = state.visible(issuer, id);
      if (found === undefined) return null;
      const { user, scim } = found;
      if (options?.ifVersion !== undefined && options.ifVersion !== scim.version)
        throw new ScimConflictError('version');
      state.checkUserName(issuer, write.userName, id);
      table.setExternalId(user, write.externalId);
      table.applyPatch(user, { email: write.email, name: write.name });
      state.setUser(user, {
        ...scim,
        userName: write.userName,
        attributes: structuredClone({ ...write.attributes }),
        version: scim.version + 1,
        lastModified: new Date(),
      });
      if (options?.event !== undefined)
        outbox.add(user.id, { issuer: user.issuer, subject: user.subject }, options.event);
      return userRecord({ user, scim: state.users.get(id) ?? scim });
    },

    async hideUser(issuer, id) {
      const found = state.visible(issuer, id);
      if (found === undefined) return false;
      state.hide(found);
      return true;
    },
  };
}
