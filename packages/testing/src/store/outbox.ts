import type {
  NewUser,
  OutboxEvent,
  OutboxStatus,
  OutboxStore,
  ProvisionedEvent,
  Store,
} from '@jit-provision/core';
import { createOutboxDispatcher, createProvisioner } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshKey, type StoreConformanceOptions, sleep } from './options';

/** The setup every group of the `outbox` cases shares: a fresh store per case, and its helpers. */
function outboxContext<S extends Store>(options: StoreConformanceOptions<S>) {
  let store: S;
  let outbox: OutboxStore;
  beforeEach(async (context) => {
    store = await options.createStore();
    if (store.outbox === undefined) {
      context.skip('this store has no outbox');
      return;
    }
    outbox = store.outbox;
    // Leftovers of earlier runs on a shared database must not crowd our events out of a claim.
    for (;;) {
      const stale = await outbox.claim({ limit: 500, leaseMs: 60_000 });
      if (stale.length === 0) break;
      await Promise.all(stale.map((e) => outbox.complete(e.id)));
    }
  });
  afterEach(async () => {
    await options.cleanup?.(store);
  });

  const newUser = (key = freshKey('outbox'), emit = true): NewUser => ({
    ...key,
    username: `oidc:conf:${key.subject}`,
    role: 'user',
    email: `${key.subject}@example.com`,
    name: null,
    tenantId: null,
    ...(emit
      ? { emitEvent: { identity: { ...key, email: `${key.subject}@example.com`, emailVerified: true } } }
      : {}),
  });
  const mine = (events: OutboxEvent[], userIds: Iterable<string>) => {
    const ids = new Set(userIds);
    return events.filter((e) => ids.has(e.userId));
  };
  /** This case's events, found by user id: a long-lived table may hold any number of older rows. */
  const listMine = async (userIds: Iterable<string>, status?: OutboxStatus) => {
    const ids = [...userIds];
    const events = await outbox.list({ ...(status === undefined ? {} : { status }), userIds: ids });
    // Filtering is the store's job: one that ignores `userIds` fails here, not later on a grown table.
    expect(events.filter((e) => !ids.includes(e.userId))).toEqual([]);
    return events;
  };
  const claimAll = async (leaseMs = 60_000) => {
    const all: OutboxEvent[] = [];
    for (;;) {
      const batch = await outbox.claim({ limit: 50, leaseMs });
      if (batch.length === 0) return all;
      all.push(...batch);
    }
  };
  return {
    get store() {
      return store;
    },
    get outbox() {
      return outbox;
    },
    newUser,
    mine,
    listMine,
    claimAll,
  };
}

type OutboxContext<S extends Store> = ReturnType<typeof outboxContext<S>>;

/** Writing events: only on create, with the actor, once under a race, on confirm but not on a stale one. */
function outboxWriteCases<S extends Store>(cases: OutboxContext<S>): void {
  const { newUser, listMine } = cases;
  it('upsert writes one pending event only when it creates the row, with the identity', async () => {
    const { store } = cases;
    const input = newUser();
    const first = await store.upsert(input);
    const again = await store.upsert(input);
    const silent = await store.upsert(newUser(freshKey('silent'), false));
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    const pending = await listMine([first.user.id, silent.user.id], 'pending');
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      type: 'user.provisioned',
      userId: first.user.id,
      status: 'pending',
      attempts: 0,
      lastError: null,
      completedAt: null,
      identity: { issuer: input.issuer, subject: input.subject, email: input.email, emailVerified: true },
      actor: null,
    });
    expect(pending[0]?.createdAt).toBeInstanceOf(Date);
  });

  it('emitEvent.actor (an admin pre-provisioning) is written on the event, by upsert and by confirm', async () => {
    const { store } = cases;
    const withActor = (input: NewUser, actor: string): NewUser => ({
      ...input,
      emitEvent: { identity: input.emitEvent?.identity ?? input, actor },
    });
    const { user } = await store.upsert(withActor(newUser(), 'admin-1'));
    const ids = [user.id];
    const key = freshKey('outbox-actor');
    if (store.reservations !== undefined) {
      const held = await store.reservations.reserve(key, { leaseMs: 10_000 });
      ids.push(
        (await store.reservations.confirm(withActor(newUser(key), 'admin-2'), held, `app-${key.subject}`)).id,
      );
    }
    const events = await listMine(ids);
    expect(events.map((e) => [e.userId, e.actor]).sort()).toEqual(
      [[user.id, 'admin-1'], ...(ids[1] === undefined ? [] : [[ids[1], 'admin-2']])].sort(),
    );
  });

  it('100 racing upserts with emitEvent write exactly one event', async () => {
    const { store } = cases;
    const input = newUser(freshKey('outbox-race'));
    const results = await Promise.all(Array.from({ length: 100 }, () => store.upsert(input)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const events = await listMine([results[0]?.user.id ?? '']);
    expect(events).toHaveLength(1);
  });

  it('confirm writes the event with the user; a stale confirm writes none', async () => {
    const { store } = cases;
    const key = freshKey('outbox-confirm');
    const crashed = await store.reservations!.reserve(key, { leaseMs: 30 });
    await sleep(80);
    const taker = await store.reservations!.reserve(key, { leaseMs: 10_000 });
    const staleId = `stale-${key.subject}`;
    await expect(store.reservations!.confirm(newUser(key), crashed, staleId)).rejects.toMatchObject({
      code: 'reservation_conflict',
    });
    const user = await store.reservations!.confirm(newUser(key), taker, `app-${key.subject}`);
    const events = await listMine([user.id, staleId]);
    expect(events.map((e) => e.userId)).toEqual([user.id]);
  });
}

/** Claiming: complete, fail and retry, expired claims, concurrent claimers never sharing an event. */
function outboxClaimCases<S extends Store>(cases: OutboxContext<S>): void {
  const { newUser, mine, listMine, claimAll } = cases;
  it('claim → complete: hidden while claimed, done afterwards, never claimed again', async () => {
    const { store, outbox } = cases;
    const { user } = await store.upsert(newUser());
    const claimed = mine(await claimAll(), [user.id]);
    expect(claimed).toHaveLength(1);
    const event = claimed[0] as OutboxEvent;
    expect(event.attempts).toBe(1);
    expect(event.availableAt.getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(mine(await claimAll(), [user.id])).toHaveLength(0);
    await outbox.complete(event.id);
    const [done] = await listMine([user.id], 'done');
    expect(done).toMatchObject({ id: event.id, status: 'done', attempts: 1 });
    expect(done?.completedAt).toBeInstanceOf(Date);
    // A late fail from a stale claimer must not resurrect a delivered event.
    await outbox.fail(event.id, { error: 'late', retryAt: new Date() });
    expect(await listMine([user.id], 'done')).toHaveLength(1);
  });

  it('fail with retryAt → claimable again at that time with attempts+1; retryAt null → failed, still listed', async () => {
    const { store, outbox } = cases;
    const { user } = await store.upsert(newUser());
    const [first] = mine(await claimAll(), [user.id]);
    await outbox.fail(first?.id ?? '', { error: 'smtp down', retryAt: new Date(Date.now() + 150) });
    expect(mine(await claimAll(), [user.id])).toHaveLength(0);
    await sleep(250);
    const [second] = mine(await claimAll(), [user.id]);
    expect(second).toMatchObject({ id: first?.id, attempts: 2, lastError: 'smtp down' });
    await outbox.fail(second?.id ?? '', { error: 'gave up', retryAt: null });
    expect(mine(await claimAll(), [user.id])).toHaveLength(0);
    const [failed] = await listMine([user.id], 'failed');
    expect(failed).toMatchObject({ id: first?.id, status: 'failed', attempts: 2, lastError: 'gave up' });
  });

  it('retry: a failed or done event is due again with attempts 0; a pending one is left alone; false for unknown', async (context) => {
    const { store, outbox } = cases;
    if (outbox.retry === undefined) return context.skip('this outbox has no retry');
    const [a, b, c] = await Promise.all([newUser(), newUser(), newUser()].map((u) => store.upsert(u)));
    const ids = [a, b, c].map((r) => r?.user.id ?? '');
    const claimed = mine(await claimAll(), ids);
    const byUser = (id: string) => claimed.find((e) => e.userId === id) as OutboxEvent;
    await outbox.fail(byUser(ids[0] as string).id, { error: 'gave up', retryAt: null });
    await outbox.complete(byUser(ids[1] as string).id);
    for (const id of ids) expect(await outbox.retry(byUser(id).id)).toBe(true);
    expect(await outbox.retry(`no-such-event-${ids[0]}`)).toBe(false);
    const again = mine(await claimAll(), ids);
    // The third is still held by its claim: retry must not hand a claimed event to a second dispatcher.
    expect(again.map((e) => e.userId).sort()).toEqual([ids[0], ids[1]].sort());
    expect(again.every((e) => e.attempts === 1)).toBe(true);
  });

  it('an expired claim (crashed dispatcher) is claimable again', async () => {
    const { store, outbox } = cases;
    await claimAll(); // older events out of the way, leased for a minute
    const { user } = await store.upsert(newUser());
    // Claim batches until this user's event comes: stopping there, a loaded machine cannot let its short
    // lease run out inside the loop and claim it twice before the "crash".
    const claimMine = async (leaseMs: number) => {
      for (;;) {
        const batch = await outbox.claim({ limit: 50, leaseMs });
        const [event] = mine(batch, [user.id]);
        if (event !== undefined || batch.length === 0) return event;
      }
    };
    const first = await claimMine(50);
    expect(first).toMatchObject({ attempts: 1 });
    // The dispatcher that claimed it "crashed": once the lease ends, the event is claimable again, once.
    let again: OutboxEvent | undefined;
    for (let i = 0; i < 500 && again === undefined; i++) {
      again = await claimMine(60_000);
      if (again === undefined) await sleep(20);
    }
    expect(again).toMatchObject({ id: first?.id, attempts: 2 });
  });

  it('8 concurrent claimers over 40 events: each event is claimed exactly once', async () => {
    const { store, outbox } = cases;
    const results = await Promise.all(Array.from({ length: 40 }, () => store.upsert(newUser())));
    const userIds = results.map((r) => r.user.id);
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (;;) {
          const batch = await outbox.claim({ limit: 3, leaseMs: 60_000 });
          if (batch.length === 0) return;
          seen.push(...mine(batch, userIds).map((e) => e.id));
        }
      }),
    );
    expect(seen).toHaveLength(40);
    expect(new Set(seen).size).toBe(40);
  });
}

/** Delivery through the dispatcher: once per first login across processes, retried with a stable eventId. */
function outboxDeliveryCases<S extends Store>(cases: OutboxContext<S>): void {
  const { newUser, listMine } = cases;
  it("provisioner in outbox mode: two processes' dispatchers deliver each first login once, with a stable eventId", async () => {
    const { store } = cases;
    const delivered: ProvisionedEvent[] = [];
    const hook = async (event: ProvisionedEvent) => {
      await sleep(5);
      delivered.push(event);
    };
    const provisioners = [0, 1].map(() =>
      createProvisioner({
        store,
        userCache: false,
        tokenCache: false,
        hookDelivery: 'outbox',
        onProvisioned: [hook],
        outbox: { pollMs: 20 },
      }),
    );
    try {
      const keys = Array.from({ length: 10 }, () => freshKey('dispatch'));
      const results = await Promise.all(
        keys.flatMap((key) =>
          provisioners.map((p) => p.ensureUserExists({ ...key, email: 'd@example.com' })),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(10);
      const ids = new Set(results.map((r) => r.user.id));
      for (let i = 0; i < 100 && delivered.filter((e) => ids.has(e.user.id)).length < 10; i++)
        await sleep(20);
      await Promise.all(provisioners.map((p) => p.outbox?.drain()));
      const ours = delivered.filter((e) => ids.has(e.user.id));
      expect(ours).toHaveLength(10);
      expect(new Set(ours.map((e) => e.user.id)).size).toBe(10);
      const done = await listMine(ids, 'done');
      expect(new Set(done.map((e) => e.id))).toEqual(new Set(ours.map((e) => e.eventId)));
    } finally {
      await Promise.all(provisioners.map((p) => p.outbox?.stop()));
    }
  });

  it('a failing hook is retried with the same eventId until it succeeds', async () => {
    const { store } = cases;
    const seen: string[] = [];
    let failuresLeft = 2;
    const dispatcher = createOutboxDispatcher({
      store,
      hooks: [
        (event) => {
          seen.push(event.eventId);
          if (failuresLeft-- > 0) throw new Error('receiver down');
        },
      ],
      backoff: () => 10,
      logger: { warn: () => {}, error: () => {} },
    });
    const { user } = await store.upsert(newUser());
    for (let i = 0; i < 50 && (await dispatcher.drain()) === 0; i++) await sleep(20);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);
    const [done] = await listMine([user.id], 'done');
    expect(done).toMatchObject({ id: seen[0], attempts: 3 });
  });
}

/**
 * Outbox cases, run for stores with `outbox` (skipped otherwise). They assume nothing else consumes this
 * store's outbox while they run: each case first completes whatever is due.
 */
export function outboxCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('outbox', () => {
    const cases = outboxContext(options);
    outboxWriteCases(cases);
    outboxClaimCases(cases);
    outboxDeliveryCases(cases);
  });
}
