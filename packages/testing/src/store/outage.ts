import type { Store } from '@jit-provision/core';
import { isJitProvisionError } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conformanceUser, freshKey, type StoreConformanceOptions } from './options';

/**
 * Outage cases, run when the store author passes `createBrokenStore` (a store whose database cannot be
 * reached): every operation rejects with a core `StoreUnavailableError` (`provisioning_unavailable`, 503 with
 * `Retry-After`), never a raw driver error that would turn into a 500.
 */
export function outageCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('outage', () => {
    let broken: S;
    beforeEach(async (context) => {
      if (options.createBrokenStore === undefined) {
        context.skip('no createBrokenStore option: this store cannot be made unreachable');
        return;
      }
      broken = await options.createBrokenStore();
    });
    afterEach(async () => {
      if (broken !== undefined) await options.cleanupBrokenStore?.(broken);
    });

    const unavailable = async (label: string, call: () => Promise<unknown>) => {
      const error = await call().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isJitProvisionError(error, 'provisioning_unavailable'), `${label}: ${String(error)}`).toBe(true);
      expect((error as { status: number }).status, label).toBe(503);
    };

    it('every user and reservation operation rejects with provisioning_unavailable', async () => {
      const key = freshKey('outage');
      const user = conformanceUser(key);
      const reservation = { token: 'outage-token', expiresAt: new Date(Date.now() + 10_000) };
      await unavailable('lookup', () => broken.lookup(key));
      await unavailable('upsert', () => broken.upsert(user));
      const { lookupOrCreate } = broken;
      if (lookupOrCreate !== undefined)
        await unavailable('lookupOrCreate', () => lookupOrCreate.call(broken, user));
      await unavailable('sync', () => broken.sync('outage-id', { email: 'x@example.com' }));
      await unavailable('getUser', () => broken.getUser('outage-id'));
      await unavailable('setRole', () => broken.setRole('outage-id', 'admin'));
      await unavailable('reserve', () => broken.reservations!.reserve(key, { leaseMs: 10_000 }));
      await unavailable('confirm', () => broken.reservations!.confirm(user, reservation, 'outage-id'));
      await unavailable('release', () => broken.reservations!.release(key, reservation));
    });

    it('invitation, lifecycle and outbox operations reject with provisioning_unavailable', async () => {
      const { invitations, outbox, users } = broken;
      if (users !== undefined) {
        await unavailable('users.setStatus', () => users.setStatus('outage-id', 'disabled'));
        await unavailable('users.setRole', () => users.setRole('outage-id', 'admin'));
        await unavailable('users.revokeSessions', () => users.revokeSessions('outage-id'));
        await unavailable('users.delete', () => users.delete('outage-id'));
        await unavailable('users.list', () => users.list({ limit: 1 }));
        await unavailable('users.touchLastSeen', () => users.touchLastSeen('outage-id'));
      }
      if (invitations !== undefined) {
        await unavailable('findInvitation', () => invitations.findInvitation(['outage-hash']));
        await unavailable('consumeInvitation', () => invitations.consumeInvitation('outage-id', new Date()));
      }
      if (outbox !== undefined) {
        await unavailable('claim', () => outbox.claim({ limit: 1, leaseMs: 1_000 }));
        await unavailable('list', () => outbox.list({ limit: 1 }));
      }
    });
  });
}
