import type { Store, UserChange, UserChangeFeed, UserChangeStatus } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshKey, type StoreConformanceOptions, sleep } from './options';

/** Poll until `check` holds; the deadline only catches a feed that never delivers. */
async function eventually(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not delivered within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/**
 * Change feed cases, run for stores with `changes` (skipped otherwise): a subscriber hears `'up'`, then every
 * change of an existing user by id and (issuer, subject) — whoever made it — and nothing once unsubscribed.
 */
export function changeFeedCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('changes', () => {
    let store: S;
    let feed: UserChangeFeed;
    const stops: Array<() => Promise<void>> = [];
    beforeEach(async (context) => {
      store = await options.createStore();
      if (store.changes === undefined) {
        context.skip('this store has no change feed');
        return;
      }
      feed = store.changes;
    });
    afterEach(async () => {
      for (const stop of stops.splice(0)) await stop();
      await options.cleanup?.(store);
    });

    async function listen() {
      const heard: UserChange[] = [];
      const statuses: UserChangeStatus[] = [];
      const stop = await feed.subscribe((c) => heard.push(c), { onStatus: (s) => statuses.push(s) });
      stops.push(stop);
      // A feed that reports no status is up once subscribed.
      await eventually(() => statuses.length === 0 || statuses.at(-1) === 'up');
      return { heard, statuses, stop };
    }

    it('reports setRole and a profile sync of an existing user by id and key; unsubscribing stops delivery', async () => {
      const first = await listen();
      const second = await listen();
      const key = freshKey('changes');
      const { user } = await store.upsert({ ...key, username: `oidc:conf:${key.subject}`, role: 'user' });
      const of = (heard: UserChange[]) => heard.filter((c) => c.userId === user.id);

      await store.setRole(user.id, 'admin');
      await eventually(() => of(first.heard).length >= 1 && of(second.heard).length >= 1);
      expect(of(first.heard)[0]).toEqual({ userId: user.id, issuer: key.issuer, subject: key.subject });

      await store.sync(user.id, { email: 'changed@example.com' });
      await eventually(() => of(first.heard).length >= 2);

      await first.stop();
      await store.setRole(user.id, 'auditor');
      // Both subscribers are served by one delivery: once the second hears it, the first would have too.
      await eventually(() => of(second.heard).length >= 3);
      expect(of(first.heard)).toHaveLength(2);
    });
  });
}
