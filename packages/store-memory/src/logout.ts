import type { LogoutStore, RevokedSession } from '@jit-provision/core';

/** Most remembered logout-token `jti`s and revoked sessions, each; past it, expired ones go first, then the oldest-expiring. */
export const MEMORY_LOGOUT_MAX_ENTRIES = 100_000;

/** The in-process logout part, plus the store's `clear()`. */
export interface MemoryLogout {
  readonly store: LogoutStore;
  clear(): void;
  /** Entries held now (jtis + sessions), for the bound's test. */
  size(): number;
}

/**
 * Drop expired entries once the map is full; still full, drop the entries expiring soonest. A `Map` keeps
 * insertion order, and with one token lifetime per issuer that is nearly expiry order: a flood of distinct
 * jtis cannot grow memory past `max`.
 */
function bound(map: Map<string, number>, max: number): void {
  if (map.size <= max) return;
  const now = Date.now();
  for (const [key, until] of map) if (until <= now) map.delete(key);
  for (const key of map.keys()) {
    if (map.size <= max) break;
    map.delete(key);
  }
}

const keyOf = (issuer: string, value: string) => `${issuer}\n${value}`;

/** The memory store's {@link LogoutStore}: revocations reported through `revoked` (the change feed). */
export function createMemoryLogout(
  revoked: (session: RevokedSession) => void,
  max: number = MEMORY_LOGOUT_MAX_ENTRIES,
): MemoryLogout {
  const jtis = new Map<string, number>();
  const sids = new Map<string, { session: RevokedSession; until: number }>();
  const live = (until: number | undefined) => until !== undefined && until > Date.now();

  const store: LogoutStore = {
    async claimJti(issuer, jti, expiresAt) {
      const key = keyOf(issuer, jti);
      if (live(jtis.get(key))) return false;
      jtis.delete(key);
      jtis.set(key, expiresAt.getTime());
      bound(jtis, max);
      return true;
    },
    async revokeSid(issuer, sid, expiresAt) {
      const key = keyOf(issuer, sid);
      const until = Math.max(sids.get(key)?.until ?? 0, expiresAt.getTime());
      const session = { issuer, sid, expiresAt: new Date(until) };
      sids.delete(key);
      sids.set(key, { session, until });
      if (sids.size > max) {
        const now = Date.now();
        for (const [k, entry] of sids) if (entry.until <= now) sids.delete(k);
      }
      revoked({ ...session, expiresAt: new Date(until) });
    },
    async isSidRevoked(issuer, sid) {
      return live(sids.get(keyOf(issuer, sid))?.until);
    },
    async revokedSids(limit) {
      const out: RevokedSession[] = [];
      const now = Date.now();
      for (const { session, until } of sids.values()) {
        if (until <= now) continue;
        out.push({ ...session, expiresAt: new Date(until) });
        if (out.length > limit) break;
      }
      return out;
    },
    async purgeExpired() {
      const now = Date.now();
      let count = 0;
      for (const [key, until] of jtis) if (until <= now && jtis.delete(key)) count++;
      for (const [key, entry] of sids) if (entry.until <= now && sids.delete(key)) count++;
      return count;
    },
  };
  return {
    store,
    clear() {
      jtis.clear();
      sids.clear();
    },
    size: () => jtis.size + sids.size,
  };
}
