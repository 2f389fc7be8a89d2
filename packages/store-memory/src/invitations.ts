import type { Invitation, InvitationStatus, InvitationStore, NewInvitation } from '@jit-provision/core';

interface Row extends Invitation {
  tokenHash: string;
}

const copy = ({ tokenHash: _hash, ...row }: Row): Invitation => ({
  ...row,
  createdAt: new Date(row.createdAt),
  expiresAt: new Date(row.expiresAt),
  consumedAt: row.consumedAt === null ? null : new Date(row.consumedAt),
  revokedAt: row.revokedAt === null ? null : new Date(row.revokedAt),
});

function statusOf(row: Invitation, now: number): InvitationStatus {
  if (row.revokedAt !== null) return 'revoked';
  if (row.consumedAt !== null) return 'consumed';
  return row.expiresAt.getTime() <= now ? 'expired' : 'pending';
}

/**
 * The in-process {@link InvitationStore} behind `createMemoryStore().invitations`. Each method reads and
 * writes without yielding in between, which is what makes replace-pending and consume atomic here.
 *
 * @example
 * ```ts
 * import { createInvitationService } from '@jit-provision/core';
 * const store = { ...createMemoryStore(), invitations: createMemoryInvitationStore() };
 * const invitations = createInvitationService({ store, secret });
 * ```
 */
export function createMemoryInvitationStore(): InvitationStore & { clear(): void } {
  const byId = new Map<string, Row>();
  const byHash = new Map<string, Row>();

  return {
    async createInvitation(input: NewInvitation) {
      if (byId.has(input.id) || byHash.has(input.tokenHash)) {
        throw new Error('invitation id or token hash already exists');
      }
      const now = new Date();
      for (const row of byId.values()) {
        if (row.email === input.email && statusOf(row, now.getTime()) === 'pending') row.revokedAt = now;
      }
      const row: Row = {
        id: input.id,
        tokenHash: input.tokenHash,
        email: input.email,
        role: input.role,
        invitedBy: input.invitedBy,
        createdAt: now,
        expiresAt: new Date(input.expiresAt),
        consumedAt: null,
        revokedAt: null,
      };
      byId.set(row.id, row);
      byHash.set(row.tokenHash, row);
      return copy(row);
    },

    async findInvitation(tokenHashes) {
      for (const hash of tokenHashes) {
        const row = byHash.get(hash);
        if (row !== undefined) return copy(row);
      }
      return null;
    },

    async findPendingInvitationByEmail(email, now) {
      for (const row of byId.values()) {
        if (row.email === email && statusOf(row, now.getTime()) === 'pending') return copy(row);
      }
      return null;
    },

    async consumeInvitation(id, now) {
      const row = byId.get(id);
      if (row === undefined || statusOf(row, now.getTime()) !== 'pending') return null;
      row.consumedAt = new Date(now);
      return copy(row);
    },

    async unconsumeInvitation(id, consumedAt) {
      const row = byId.get(id);
      if (row?.consumedAt?.getTime() !== consumedAt.getTime() || row.revokedAt !== null) return false;
      for (const other of byId.values()) {
        // A re-invite since: the replaced invitation stays consumed.
        if (other !== row && other.email === row.email && other.createdAt >= row.createdAt) return false;
      }
      row.consumedAt = null;
      return true;
    },

    async revokeInvitation(id, { soft }) {
      const row = byId.get(id);
      if (row === undefined) return false;
      if (soft) {
        row.revokedAt ??= new Date();
      } else {
        byId.delete(id);
        byHash.delete(row.tokenHash);
      }
      return true;
    },

    async purgeInvitations(before) {
      const limit = before.getTime();
      let count = 0;
      for (const row of [...byId.values()]) {
        const ended = [row.expiresAt, row.consumedAt, row.revokedAt].some(
          (at) => at !== null && at.getTime() < limit,
        );
        if (ended) {
          byId.delete(row.id);
          byHash.delete(row.tokenHash);
          count++;
        }
      }
      return count;
    },

    async listInvitations({ status, now }) {
      return [...byId.values()]
        .filter((row) => status === undefined || statusOf(row, now.getTime()) === status)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map(copy);
    },

    clear() {
      byId.clear();
      byHash.clear();
    },
  };
}
