import type { RevokedSession, Store } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conformanceUser, freshKey, type StoreConformanceOptions, sleep } from './options';

const later = (ms: number) => new Date(Date.now() + ms);

/**
 * Back-channel logout cases, run for stores with `logout` (skipped otherwise): a `jti` is claimed by exactly
 * one of many racers and refused while remembered, an expired one may be claimed again; a revoked `sid` is
 * refused until it expires, listed by `revokedSids`, reported to the change feed's `onSessionRevoked`, and
 * purged once expired; `users.revokeSessions` with `at` sets that instant and never moves a later one back.
 */
export function logoutCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('logout', () => {
    let store: S;
    beforeEach(async (context) => {
      store = await options.createStore();
      if (store.logout === undefined) context.skip('this store has no logout part');
    });
    afterEach(async () => {
      await options.cleanup?.(store);
    });

    it('claimJti: exactly one of 50 racing callers wins; a replay is refused; an expired jti is claimed again', async () => {
      const logout = store.logout as NonNullable<Store['logout']>;
      const { issuer, subject: jti } = freshKey('jti');
      const wins = await Promise.all(
        Array.from({ length: 50 }, () => logout.claimJti(issuer, jti, later(60_000))),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await logout.claimJti(issuer, jti, later(60_000))).toBe(false);
      // the same jti from another issuer is another token
      expect(await logout.claimJti(`${issuer}/other`, jti, later(60_000))).toBe(true);
      const { subject: short } = freshKey('jti-short');
      expect(await logout.claimJti(issuer, short, later(50))).toBe(true);
      await sleep(120);
      expect(await logout.claimJti(issuer, short, later(60_000))).toBe(true);
    });

    it('revokeSid: refused until it expires, listed, a later expiry wins, purged once expired', async () => {
      const logout = store.logout as NonNullable<Store['logout']>;
      const { issuer, subject: sid } = freshKey('sid');
      expect(await logout.isSidRevoked(issuer, sid)).toBe(false);
      await logout.revokeSid(issuer, sid, later(60_000));
      await logout.revokeSid(issuer, sid, later(1_000));
      expect(await logout.isSidRevoked(issuer, sid)).toBe(true);
      expect(await logout.isSidRevoked(issuer, `${sid}-other`)).toBe(false);
      const listed = (await logout.revokedSids(100_000)).find((s) => s.issuer === issuer && s.sid === sid);
      expect(listed?.expiresAt.getTime()).toBeGreaterThan(Date.now() + 30_000);
      const { subject: brief } = freshKey('sid-brief');
      await logout.revokeSid(issuer, brief, later(50));
      await sleep(120);
      expect(await logout.isSidRevoked(issuer, brief)).toBe(false);
      expect(await logout.purgeExpired()).toBeGreaterThanOrEqual(1);
      expect(await logout.isSidRevoked(issuer, sid)).toBe(true);
      expect(await logout.revokedSids(0)).toHaveLength(1); // `limit + 1` at most: the caller learns it was cut
    });

    it('a revoked sid reaches every change feed subscriber (onSessionRevoked)', async (context) => {
      const logout = store.logout as NonNullable<Store['logout']>;
      if (store.changes === undefined) return context.skip('no change feed');
      const heard: RevokedSession[] = [];
      let up = false;
      const stop = await store.changes.subscribe(() => {}, {
        onStatus: (status) => {
          up = status === 'up';
        },
        onSessionRevoked: (session) => heard.push(session),
      });
      try {
        for (let deadline = Date.now() + 15_000; !up; await sleep(10))
          if (Date.now() > deadline) throw new Error('feed never up');
        const { issuer, subject: sid } = freshKey('sid-feed');
        await logout.revokeSid(issuer, sid, later(60_000));
        for (let deadline = Date.now() + 15_000; !heard.some((s) => s.sid === sid); await sleep(10))
          if (Date.now() > deadline) throw new Error('not delivered');
        expect(heard.find((s) => s.sid === sid)).toMatchObject({ issuer, sid });
      } finally {
        await stop();
      }
    });

    it('users.revokeSessions with `at` sets that instant and never moves a later one back', async (context) => {
      if (store.users === undefined) return context.skip('no users part');
      const { user } = await store.upsert(conformanceUser(freshKey('bcl')));
      const at = new Date(Date.now() - 60_000);
      const first = await store.users.revokeSessions(user.id, { at });
      expect(first.tokensValidAfter?.getTime()).toBe(at.getTime());
      const now = await store.users.revokeSessions(user.id);
      expect(now.tokensValidAfter?.getTime()).toBeGreaterThan(at.getTime());
      const back = await store.users.revokeSessions(user.id, { at });
      expect(back.tokensValidAfter?.getTime()).toBe(now.tokensValidAfter?.getTime());
    });
  });
}
