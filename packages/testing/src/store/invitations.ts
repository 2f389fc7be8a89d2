import { randomBytes, randomUUID } from 'node:crypto';
import type { Invitation, InvitationStore, NewInvitation, Store } from '@jit-provision/core';
import { createInvitationService } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConformanceOptions } from './options';

const HOUR = 60 * 60 * 1000;
const LONG_AGO = Date.UTC(2001, 0, 1);
let counter = 0;

/** A fresh, normalised email per call, so cases never collide on a shared store. */
const freshEmail = (label = 'invitee') => {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}-${randomBytes(4).toString('hex')}@conformance.test`;
};

const newInvitation = (overrides: Partial<NewInvitation> = {}): NewInvitation => ({
  id: randomUUID(),
  tokenHash: randomBytes(32).toString('base64url'),
  email: freshEmail(),
  role: 'user',
  invitedBy: 'admin@conformance.test',
  expiresAt: new Date(Date.now() + 24 * HOUR),
  ...overrides,
});

const ids = (list: readonly Invitation[]) => list.map((i) => i.id);

/** The setup every group of the invitations cases shares: a fresh store per case, and its helpers. */
function invitationsContext<S extends Store>(options: ConformanceOptions<S>) {
  const { createStore, cleanup } = options;
  let store: S;
  let invitations: InvitationStore | undefined;
  beforeEach(async (ctx) => {
    store = await createStore();
    invitations = store.invitations;
    if (invitations === undefined) ctx.skip();
  });
  afterEach(async () => {
    await cleanup?.(store);
  });
  const inv = () => invitations as InvitationStore;
  return {
    get store() {
      return store;
    },
    get invitations() {
      return invitations;
    },
    inv,
  };
}

type InvitationsContext<S extends Store> = ReturnType<typeof invitationsContext<S>>;

/** Create, replace and consume: single use, also under 50 parallel consumes. */
function invitationConsumeCases<S extends Store>(cases: InvitationsContext<S>): void {
  const { inv } = cases;
  it('createInvitation stores every field; findInvitation finds it by any of several hashes', async () => {
    const input = newInvitation({ role: 'editor' });
    const created = await inv().createInvitation(input);
    expect(created).toMatchObject({
      id: input.id,
      email: input.email,
      role: 'editor',
      invitedBy: input.invitedBy,
      consumedAt: null,
      revokedAt: null,
    });
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(created.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(created.expiresAt.getTime()).toBe(input.expiresAt.getTime());
    expect('tokenHash' in created).toBe(false);
    const found = await inv().findInvitation([randomBytes(32).toString('base64url'), input.tokenHash]);
    expect(found).toEqual(created);
    expect(await inv().findInvitation([randomBytes(32).toString('base64url')])).toBeNull();
    expect(await inv().findInvitation([])).toBeNull();
    expect((await inv().findPendingInvitationByEmail(input.email, new Date()))?.id).toBe(input.id);
    expect(await inv().findPendingInvitationByEmail(freshEmail(), new Date())).toBeNull();
  });

  it('a new invitation for an email replaces (revokes) its pending one, and only that one', async () => {
    const email = freshEmail();
    const first = newInvitation({ email });
    const other = newInvitation();
    await inv().createInvitation(first);
    await inv().createInvitation(other);
    const second = newInvitation({ email, role: 'admin' });
    await inv().createInvitation(second);
    expect((await inv().findInvitation([first.tokenHash]))?.revokedAt).toBeInstanceOf(Date);
    expect((await inv().findInvitation([second.tokenHash]))?.revokedAt).toBeNull();
    expect((await inv().findInvitation([other.tokenHash]))?.revokedAt).toBeNull();
    const pending = await inv().findPendingInvitationByEmail(email, new Date());
    expect(pending).toMatchObject({ id: second.id, role: 'admin' });
  });

  it('consumeInvitation succeeds once, and never on an expired, revoked or unknown invitation', async () => {
    const input = newInvitation();
    await inv().createInvitation(input);
    const now = new Date();
    const consumed = await inv().consumeInvitation(input.id, now);
    expect(consumed?.id).toBe(input.id);
    expect(consumed?.consumedAt).toBeInstanceOf(Date);
    expect(await inv().consumeInvitation(input.id, new Date())).toBeNull();
    expect((await inv().findInvitation([input.tokenHash]))?.consumedAt).toBeInstanceOf(Date);
    expect(await inv().findPendingInvitationByEmail(input.email, new Date())).toBeNull();

    const expired = newInvitation({ expiresAt: new Date(Date.now() - HOUR) });
    await inv().createInvitation(expired);
    expect(await inv().consumeInvitation(expired.id, new Date())).toBeNull();
    expect(await inv().findPendingInvitationByEmail(expired.email, new Date())).toBeNull();
    // `now` is the caller's clock: an invitation is pending strictly before expiresAt.
    const edge = newInvitation({ expiresAt: new Date(Date.now() + HOUR) });
    await inv().createInvitation(edge);
    expect(await inv().consumeInvitation(edge.id, new Date(edge.expiresAt))).toBeNull();
    expect(await inv().consumeInvitation(edge.id, new Date(edge.expiresAt.getTime() - 1))).not.toBeNull();

    const revoked = newInvitation();
    await inv().createInvitation(revoked);
    await inv().revokeInvitation(revoked.id, { soft: true });
    expect(await inv().consumeInvitation(revoked.id, new Date())).toBeNull();
    expect(await inv().consumeInvitation(randomUUID(), new Date())).toBeNull();
  });

  it('of 50 parallel consumes exactly one succeeds', async () => {
    const input = newInvitation();
    await inv().createInvitation(input);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => inv().consumeInvitation(input.id, new Date())),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });

  it('of 50 parallel service consumes of one token exactly one succeeds; the rest are invitation_consumed', async () => {
    const { store } = cases;
    const service = createInvitationService({ store, secret: randomBytes(32) });
    const email = freshEmail();
    const { token } = await service.create({ email, invitedBy: 'conformance' });
    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, () => service.consume({ token, email })),
    );
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    const codes = settled.flatMap((s) =>
      s.status === 'rejected' ? [(s.reason as { code: string }).code] : [],
    );
    expect(new Set(codes)).toEqual(new Set(['invitation_consumed']));
  });
}

/** Unconsume: only for the consume it undoes, never reviving a replaced invitation. */
function invitationUnconsumeCases<S extends Store>(cases: InvitationsContext<S>): void {
  const { inv } = cases;
  it('unconsumeInvitation makes a consumed invitation pending again, only for the consume it undoes', async () => {
    const input = newInvitation();
    await inv().createInvitation(input);
    const consumed = await inv().consumeInvitation(input.id, new Date());
    if (consumed?.consumedAt == null) throw new Error('expected the consume to succeed');
    // Not this consume's timestamp (a later consume's, say): nothing changes.
    expect(await inv().unconsumeInvitation(input.id, new Date(consumed.consumedAt.getTime() - 1))).toBe(
      false,
    );
    expect(await inv().unconsumeInvitation(input.id, consumed.consumedAt)).toBe(true);
    expect((await inv().findInvitation([input.tokenHash]))?.consumedAt).toBeNull();
    expect((await inv().findPendingInvitationByEmail(input.email, new Date()))?.id).toBe(input.id);
    expect(await inv().consumeInvitation(input.id, new Date())).not.toBeNull();
    expect(await inv().unconsumeInvitation(randomUUID(), new Date())).toBe(false); // unknown id: a no-op
  });

  it('a failed first login never brings back an invitation a re-invite replaced (issue 11 #3)', async () => {
    // A (admin) consumed by a slow first login; meanwhile the address is re-invited as B (user); then the
    // login fails and undoes its consume. Only B may be pending: A's link must not work again as admin.
    const email = freshEmail('reinvited');
    const a = newInvitation({ email, role: 'admin' });
    await inv().createInvitation(a);
    const consumed = await inv().consumeInvitation(a.id, new Date());
    if (consumed?.consumedAt == null) throw new Error('expected the consume to succeed');
    const b = newInvitation({ email, role: 'user' });
    await inv().createInvitation(b);
    expect(await inv().unconsumeInvitation(a.id, consumed.consumedAt)).toBe(false);
    const now = new Date();
    const pending = (await inv().listInvitations({ status: 'pending', now })).filter(
      (i) => i.email === email,
    );
    expect(pending.map((i) => i.id)).toEqual([b.id]);
    expect((await inv().findInvitation([a.tokenHash]))?.consumedAt).not.toBeNull();
    expect((await inv().findPendingInvitationByEmail(email, now))?.role).toBe('user');
  });

  it('unconsume racing re-invites: never two pending invitations for one email', async () => {
    for (let round = 0; round < 10; round++) {
      const email = freshEmail('race');
      const a = newInvitation({ email, role: 'admin' });
      await inv().createInvitation(a);
      const consumed = await inv().consumeInvitation(a.id, new Date());
      if (consumed?.consumedAt == null) throw new Error('expected the consume to succeed');
      const at = consumed.consumedAt;
      await Promise.all([
        inv().unconsumeInvitation(a.id, at),
        inv().createInvitation(newInvitation({ email })),
        inv().unconsumeInvitation(a.id, at),
      ]);
      const pending = (await inv().listInvitations({ status: 'pending', now: new Date() })).filter(
        (i) => i.email === email,
      );
      expect(pending).toHaveLength(1);
    }
  });
}

/** Revoke, purge and list. */
function invitationHousekeepingCases<S extends Store>(cases: InvitationsContext<S>): void {
  const { inv } = cases;
  it('revokeInvitation: soft keeps the row revoked, hard deletes it, unknown ids answer false', async () => {
    const soft = newInvitation();
    const hard = newInvitation();
    await inv().createInvitation(soft);
    await inv().createInvitation(hard);
    expect(await inv().revokeInvitation(soft.id, { soft: true })).toBe(true);
    expect((await inv().findInvitation([soft.tokenHash]))?.revokedAt).toBeInstanceOf(Date);
    expect(await inv().findPendingInvitationByEmail(soft.email, new Date())).toBeNull();
    expect(await inv().revokeInvitation(hard.id, { soft: false })).toBe(true);
    expect(await inv().findInvitation([hard.tokenHash])).toBeNull();
    expect(await inv().revokeInvitation(hard.id, { soft: false })).toBe(false);
    expect(await inv().revokeInvitation(randomUUID(), { soft: true })).toBe(false);
  });

  it('purgeInvitations deletes what ended before the cut-off and counts it', async () => {
    const old1 = newInvitation({ expiresAt: new Date(LONG_AGO + 1_000) });
    const old2 = newInvitation({ expiresAt: new Date(LONG_AGO + 2_000) });
    const revoked = newInvitation();
    const live = newInvitation();
    for (const i of [old1, old2, revoked, live]) await inv().createInvitation(i);
    await inv().revokeInvitation(revoked.id, { soft: true });

    expect(await inv().purgeInvitations(new Date(LONG_AGO + 1_500))).toBe(1);
    expect(await inv().findInvitation([old1.tokenHash])).toBeNull();
    expect(await inv().findInvitation([old2.tokenHash])).not.toBeNull();
    expect(await inv().purgeInvitations(new Date(LONG_AGO + 10_000))).toBe(1);
    expect(await inv().purgeInvitations(new Date(LONG_AGO + 10_000))).toBe(0);

    // A cut-off after the revocation removes it; a live invitation stays.
    expect(await inv().purgeInvitations(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
    expect(await inv().findInvitation([revoked.tokenHash])).toBeNull();
    expect(await inv().findInvitation([live.tokenHash])).not.toBeNull();
  });

  it('listInvitations filters by status at `now`', async () => {
    const pending = newInvitation();
    const consumed = newInvitation();
    const revoked = newInvitation();
    const expired = newInvitation({ expiresAt: new Date(Date.now() - HOUR) });
    for (const i of [pending, consumed, revoked, expired]) await inv().createInvitation(i);
    await inv().consumeInvitation(consumed.id, new Date());
    await inv().revokeInvitation(revoked.id, { soft: true });
    const now = new Date();
    const all = ids(await inv().listInvitations({ now }));
    expect(all).toEqual(expect.arrayContaining([pending.id, consumed.id, revoked.id, expired.id]));
    const mine = [pending.id, consumed.id, revoked.id, expired.id];
    for (const [status, id] of [
      ['pending', pending.id],
      ['consumed', consumed.id],
      ['revoked', revoked.id],
      ['expired', expired.id],
    ] as const) {
      const listed = ids(await inv().listInvitations({ status, now })).filter((x) => mine.includes(x));
      expect(listed, status).toEqual([id]);
    }
    // The same invitation is expired once `now` passes its expiry.
    const later = new Date(pending.expiresAt.getTime() + 1);
    expect(ids(await inv().listInvitations({ status: 'expired', now: later }))).toContain(pending.id);
  });
}

/**
 * The invitation half of the store conformance kit: every `InvitationStore` must pass it. Cases on a
 * store without `invitations` are skipped, so it can be called for any Store. Only millisecond
 * precision and string ids are assumed.
 *
 * @example
 * ```ts
 * import { runInvitationConformance } from '@jit-provision/testing';
 * runInvitationConformance({ name: 'my-store', createStore: () => createMyStore() });
 * ```
 */
export function runInvitationConformance<S extends Store>(options: ConformanceOptions<S>): void {
  describe(options.name === undefined ? 'invitations' : `invitations: ${options.name}`, () => {
    const cases = invitationsContext(options);
    invitationConsumeCases(cases);
    invitationUnconsumeCases(cases);
    invitationHousekeepingCases(cases);
  });
}
