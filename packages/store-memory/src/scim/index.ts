import type { ScimStore } from '@jit-provision/core';
import type { MemoryOutbox } from '../outbox';
import type { UserTable } from '../table';
import { scimGroups } from './groups';
import { createScimState } from './state';
import { scimUsers } from './users';

/** The memory store's `scim` part, and its reset. */
export interface MemoryScim {
  readonly store: ScimStore;
  clear(): void;
}

/**
 * The SCIM part of the memory store (decision 0008): SCIM attributes beside the user rows, groups and
 * memberships, filters evaluated in process. Each method runs without yielding, so a uniqueness check and
 * its write are one atomic step, as a unique index makes them in SQL.
 */
export function createMemoryScim(table: UserTable, outbox: MemoryOutbox): MemoryScim {
  const state = createScimState(table);
  // A lifecycle delete erases the row: its SCIM side and memberships go with it.
  table.onRemove.add((user) => state.forget(user));

  const store: ScimStore = {
    ...scimUsers(state, outbox),
    ...scimGroups(state),

    async status(issuer) {
      let users = 0;
      let groups = 0;
      let lastWrite: Date | null = null;
      const seen = (at: Date) => {
        if (lastWrite === null || at > lastWrite) lastWrite = at;
      };
      for (const [id, scim] of state.users) {
        const user = table.byId.get(id);
        if (user === undefined || (issuer !== undefined && user.issuer !== issuer)) continue;
        if (!scim.hidden) users += 1;
        seen(scim.lastModified);
      }
      for (const group of state.groups.values()) {
        if (issuer !== undefined && group.issuer !== issuer) continue;
        groups += 1;
        seen(group.lastModified);
      }
      return { users, groups, lastWrite: lastWrite === null ? null : new Date(lastWrite) };
    },
  };
  return { store, clear: () => state.clear() };
}
