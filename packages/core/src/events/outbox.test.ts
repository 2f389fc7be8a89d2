import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import { createProvisioner } from '../provisioning';
import type { Store } from '../store';
import type { Logger, ProvisionedEvent } from '../types';
import { createOutboxDispatcher } from './outbox';

const ISS = 'https://sso.example.com/realms/main';
const quiet = () => ({ warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>() });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it holds; the deadline is generous, as a loaded machine only makes this slower. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

/** A memory store whose outbox counts the claims made on it. */
function countingClaims() {
  const store = createMemoryStore();
  const counter = { claims: 0 };
  const outbox: typeof store.outbox = {
    ...store.outbox,
    claim: (options) => {
      counter.claims++;
      return store.outbox.claim(options);
    },
  };
  return { store: { ...store, outbox }, counter };
}

describe('outbox dispatcher', () => {
  it('gives up after maxAttempts with exponential backoff, keeping the event visible as failed', async () => {
    const store = createMemoryStore();
    const delays: number[] = [];
    const logger = quiet();
    const dispatcher = createOutboxDispatcher({
      store,
      hooks: [
        function alwaysFails() {
          throw new Error('receiver down');
        },
      ],
      maxAttempts: 3,
      backoff: (attempt) => {
        delays.push(attempt);
        return 1;
      },
      logger,
    });
    await store.upsert({
      issuer: ISS,
      subject: 'doomed',
      username: 'oidc:kcl:doomed',
      role: 'user',
      emitEvent: { identity: { issuer: ISS, subject: 'doomed' } },
    });
    // Each retry is due 1-2 ms after its failure: drain until the event gave up, however slow the machine.
    await until(async () => {
      await dispatcher.drain();
      return (await store.outbox.list({ status: 'failed' })).length === 1;
    });
    expect(delays).toEqual([1, 2]);
    const [failed] = await store.outbox.list({ status: 'failed' });
    expect(failed).toMatchObject({ status: 'failed', attempts: 3 });
    expect(failed?.lastError).toContain('alwaysFails');
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(await store.outbox.list({ status: 'pending' })).toHaveLength(0);
  });

  it('a store error while loading the user is a failed attempt retried after backoff, not a lease-long delay', async () => {
    const memory = createMemoryStore();
    let failures = 1;
    const store: Store = {
      ...memory,
      getUser: async (id) => {
        if (failures-- > 0) throw new Error('connection reset');
        return memory.getUser(id);
      },
    };
    const delivered: string[] = [];
    const logger = quiet();
    const dispatcher = createOutboxDispatcher({
      store,
      hooks: [({ user }) => void delivered.push(user.subject)],
      backoff: () => 1,
      leaseMs: 3_600_000,
      logger,
    });
    await memory.upsert({
      issuer: ISS,
      subject: 'flaky',
      username: 'oidc:kcl:flaky',
      role: 'user',
      emitEvent: { identity: { issuer: ISS, subject: 'flaky' } },
    });
    // The clock stands still through the first drain: on a loaded machine a 1 ms backoff could otherwise run
    // out before the same drain claims again, and the retry would land in it.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      expect(await dispatcher.drain()).toBe(0);
      const [pending] = await memory.outbox.list({ status: 'pending' });
      expect(pending).toMatchObject({ attempts: 1 });
      expect(pending?.lastError).toContain('connection reset');
      expect(logger.warn).toHaveBeenCalledTimes(1);
      // Due again after the 1 ms backoff, not after the hour-long lease.
      vi.setSystemTime(Date.now() + 2);
      expect(await dispatcher.drain()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
    expect(delivered).toEqual(['flaky']);
  });

  it('a hanging hook counts as a failed attempt after hookTimeoutMs; the other hooks still ran', async () => {
    const store = createMemoryStore();
    const ran = vi.fn();
    const dispatcher = createOutboxDispatcher({
      store,
      hooks: [() => new Promise<void>(() => {}), ran],
      hookTimeoutMs: 30,
      leaseMs: 1_000,
      backoff: () => 60_000,
      logger: quiet(),
    });
    await store.upsert({
      issuer: ISS,
      subject: 'hang',
      username: 'oidc:kcl:hang',
      role: 'user',
      emitEvent: { identity: { issuer: ISS, subject: 'hang' } },
    });
    // The hook never settles, so drain returning at all means the timeout counted it as failed.
    expect(await dispatcher.drain()).toBe(0);
    expect(ran).toHaveBeenCalledTimes(1);
    const [pending] = await store.outbox.list({ status: 'pending' });
    expect(pending?.lastError).toMatch(/timed out/);
  });

  it('refuses a store without an outbox and a lease shorter than the hook timeout', () => {
    const { outbox: _, ...bare } = createMemoryStore();
    expect(() => createOutboxDispatcher({ store: bare as Store, hooks: [] })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(() =>
      createOutboxDispatcher({ store: createMemoryStore(), hooks: [], leaseMs: 100, hookTimeoutMs: 100 }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
    expect(() =>
      createProvisioner({ store: bare as Store, hookDelivery: 'outbox', onProvisioned: [() => {}] }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });

  it('stop() ends polling: events created afterwards wait for the next dispatcher', async () => {
    const { store, counter } = countingClaims();
    const seen: string[] = [];
    const provisioner = createProvisioner({
      store,
      hookDelivery: 'outbox',
      onProvisioned: [({ user }) => void seen.push(user.subject)],
      outbox: { pollMs: 10 },
    });
    await provisioner.ensureUserExists({ issuer: ISS, subject: 'before' });
    await until(() => seen.length === 1);
    await provisioner.outbox?.stop();
    const claimsAtStop = counter.claims;
    const other = createProvisioner({ store, hookDelivery: 'outbox' }); // writes events, delivers nothing
    await other.ensureUserExists({ issuer: ISS, subject: 'after' });
    // A live dispatcher with the same pollMs, on a store of its own, counts the poll periods: by its fifth
    // claim the stopped one, were it still polling, would have claimed too.
    const clock = countingClaims();
    const reference = createOutboxDispatcher({ store: clock.store, hooks: [], pollMs: 10 });
    reference.start();
    await until(() => clock.counter.claims >= 5);
    await reference.stop();
    expect(counter.claims).toBe(claimsAtStop);
    expect(seen).toEqual(['before']);
    expect(await store.outbox.list({ status: 'pending' })).toHaveLength(1);
  });
});

describe('stopping with a backlog', () => {
  it('close() stops claiming at once: the batch in flight finishes, the backlog stays pending, a restart delivers it once', async () => {
    const store = createMemoryStore();
    const backlog = 2_000;
    for (let i = 0; i < backlog; i++) {
      await store.upsert({
        issuer: ISS,
        subject: `b${i}`,
        username: `oidc:kcl:b${i}`,
        role: 'user',
        emitEvent: { identity: { issuer: ISS, subject: `b${i}` } },
      });
    }
    // The first deliveries hang until the test opens the gate, after close() was called.
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const delivered: string[] = [];
    const entered: string[] = [];
    const provisioner = createProvisioner({
      store,
      hookDelivery: 'outbox',
      outbox: { batchSize: 10 },
      onProvisioned: [
        async ({ eventId }) => {
          entered.push(eventId);
          await gate;
          delivered.push(eventId);
        },
      ],
      logger: quiet(),
    });
    await until(() => entered.length === 10); // one batch in flight
    const closed = provisioner.close();
    open();
    await closed;
    expect(delivered).toHaveLength(10);
    expect(await store.outbox.list({ status: 'done', limit: backlog })).toHaveLength(10);
    expect(await store.outbox.list({ status: 'pending', limit: backlog })).toHaveLength(backlog - 10);

    // A stopped dispatcher ignores nudges; a new one delivers the rest, each event once.
    provisioner.outbox?.nudge();
    const next = createOutboxDispatcher({
      store,
      hooks: [({ eventId }) => void delivered.push(eventId)],
      batchSize: 100,
    });
    expect(await next.drain()).toBe(backlog - 10);
    expect(delivered).toHaveLength(backlog);
    expect(new Set(delivered).size).toBe(backlog);
    expect(await store.outbox.list({ status: 'pending', limit: backlog })).toHaveLength(0);
  });
});

describe('provisioner, hookDelivery: outbox', () => {
  it('the first request never waits for hooks: a hanging hook does not delay it', async () => {
    const store = createMemoryStore();
    // The hook hangs until the test opens the gate, after the request was answered.
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let hookDone = false;
    const provisioner = createProvisioner({
      store,
      hookDelivery: 'outbox',
      // Longer than the test may run: inline delivery would hold the request until this test times out.
      hookTimeoutMs: 60_000,
      outbox: { leaseMs: 120_000 },
      onProvisioned: [
        async () => {
          await gate;
          hookDone = true;
        },
      ],
      logger: quiet(),
    });
    const result = await provisioner.ensureUserExists({ issuer: ISS, subject: 'fast' });
    expect(result.created).toBe(true);
    // Answered while the hook still hangs; the event waits in the outbox.
    expect(hookDone).toBe(false);
    expect(await store.outbox.list({ status: 'done' })).toHaveLength(0);
    open();
    await until(() => hookDone);
    await provisioner.outbox?.stop();
  }, 10_000);

  it('one event per created user (preProvision and createUser mode too), none for returning users; hooks get its id', async () => {
    const store = createMemoryStore();
    const events: ProvisionedEvent[] = [];
    const provisioner = createProvisioner({
      store,
      hookDelivery: 'outbox',
      onProvisioned: [(event) => void events.push(event)],
      outbox: { pollMs: 10 },
    });
    const appOwned = createProvisioner({
      store,
      hookDelivery: 'outbox',
      createUser: async () => 'app-user-1',
    });
    await provisioner.ensureUserExists({
      issuer: ISS,
      subject: 'a',
      email: 'a@example.com',
      emailVerified: true,
    });
    await provisioner.ensureUserExists({ issuer: ISS, subject: 'a', email: 'a2@example.com' });
    await provisioner.preProvision({ issuer: ISS, subject: 'b', role: 'admin' });
    await appOwned.ensureUserExists({ issuer: ISS, subject: 'c' });
    // Every event done and none pending: nothing is left that could be delivered a second time.
    await until(async () => (await store.outbox.list({ status: 'done' })).length === 3);
    expect(await store.outbox.list({ status: 'pending' })).toHaveLength(0);
    expect(events.map((e) => e.user.subject).sort()).toEqual(['a', 'b', 'c']);
    expect(events.find((e) => e.user.subject === 'a')?.identity).toMatchObject({
      email: 'a@example.com',
      emailVerified: true,
    });
    const done = await store.outbox.list({ status: 'done' });
    expect(new Set(done.map((e) => e.id))).toEqual(new Set(events.map((e) => e.eventId)));
    await provisioner.outbox?.stop();
  });
});
