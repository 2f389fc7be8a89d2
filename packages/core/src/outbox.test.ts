import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import { createOutboxDispatcher } from './outbox';
import { createProvisioner } from './provisioner';
import type { Store } from './store';
import type { Logger, ProvisionedEvent } from './types';

const ISS = 'https://sso.example.com/realms/main';
const quiet = () => ({ warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>() });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
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
    for (let i = 0; i < 20; i++) {
      await dispatcher.drain();
      await sleep(3);
    }
    expect(delays).toEqual([1, 2]);
    const [failed] = await store.outbox.list({ status: 'failed' });
    expect(failed).toMatchObject({ status: 'failed', attempts: 3 });
    expect(failed?.lastError).toContain('alwaysFails');
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(await store.outbox.list({ status: 'pending' })).toHaveLength(0);
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
    const started = Date.now();
    expect(await dispatcher.drain()).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_000);
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
    const store = createMemoryStore();
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
    const other = createProvisioner({ store, hookDelivery: 'outbox' }); // writes events, delivers nothing
    await other.ensureUserExists({ issuer: ISS, subject: 'after' });
    await sleep(50);
    expect(seen).toEqual(['before']);
    expect(await store.outbox.list({ status: 'pending' })).toHaveLength(1);
  });
});

describe('provisioner, hookDelivery: outbox', () => {
  it('the first request never waits for hooks: a hanging hook does not delay it', async () => {
    const store = createMemoryStore();
    const provisioner = createProvisioner({
      store,
      hookDelivery: 'outbox',
      hookTimeoutMs: 400,
      onProvisioned: [() => new Promise<void>(() => {})],
      logger: quiet(),
    });
    const started = Date.now();
    const result = await provisioner.ensureUserExists({ issuer: ISS, subject: 'fast' });
    expect(result.created).toBe(true);
    // Inline delivery would have waited the whole hookTimeoutMs.
    expect(Date.now() - started).toBeLessThan(150);
    await provisioner.outbox?.stop();
  });

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
    await until(() => events.length === 3);
    await sleep(30);
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
