/**
 * A real app process for the outbox crash tests (run with tsx by `runTs`), on the engine `ENGINE*` names. It
 * signals progress on stdout, one line per step, so the parent can SIGKILL it at an exact point:
 * - insert-then-hang: stops right after the user row (and its event) is written, before any delivery.
 * - dispatch:         a dispatcher whose hook records each delivery in the `deliveries` table.
 * - hook-hang:        the hook announces itself and never returns (kill during delivery).
 * SIGTERM stops a dispatcher after its drain in flight and exits 0.
 */
import { createProvisioner, type Identity, type ProvisionedEvent, type Store } from '@jit-provision/core';
import { sql } from 'kysely';
import { createKyselyStore } from '../index';
import { env } from './child-env';
import { openEngine } from './engines';

const signal = (line: string) => process.stdout.write(`${line}\n`);
// A SQLite file holds no socket: this keeps a hanging process alive until it is killed.
const alive = setInterval(() => {}, 60_000);
const never = () => new Promise<never>(() => {});

const db = openEngine(process.env, 4);
const store = createKyselyStore({ db, changes: false });
const identity: Identity = { issuer: env('CRASH_ISSUER'), subject: process.env['CRASH_SUBJECT'] ?? 'unused' };
const logger = {
  warn: () => {},
  error: (obj: Record<string, unknown>, msg?: string) => console.error(msg, obj),
};

const recordDelivery = async (event: ProvisionedEvent) => {
  await sql`INSERT INTO deliveries (event_id, user_id, pid) VALUES (${event.eventId}, ${event.user.id}, ${process.pid})`.execute(
    db,
  );
};

async function insertThenHang(): Promise<void> {
  const stalling = new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'upsert') return Reflect.get(target, property, receiver);
      return async (input: Parameters<Store['upsert']>[0]) => {
        const outcome = await target.upsert(input);
        signal(`INSERTED ${outcome.user.id}`);
        return never();
      };
    },
  });
  const provisioner = createProvisioner({
    store: stalling,
    userCache: false,
    tokenCache: false,
    logger,
    hookDelivery: 'outbox',
    onProvisioned: [recordDelivery],
    outbox: { pollMs: 60_000 },
  });
  // Let the start-up poll finish first, so it cannot race the insert and claim the new event.
  await provisioner.outbox?.drain();
  await provisioner.ensureUserExists(identity);
}

async function dispatch(hang: boolean): Promise<void> {
  const provisioner = createProvisioner({
    store,
    logger,
    hookDelivery: 'outbox',
    // hook-hang: a short lease, so the killed claim comes back soon. dispatch: generous limits, so a slow
    // machine never turns one delivery into a timeout and a retry.
    hookTimeoutMs: hang ? 2_000 : 10_000,
    outbox: { pollMs: 50, leaseMs: hang ? 2_500 : 30_000 },
    onProvisioned: [
      hang
        ? async (event) => {
            signal(`HOOK ${event.eventId}`);
            await never();
          }
        : recordDelivery,
    ],
  });
  process.on('SIGTERM', () => {
    void (async () => {
      await provisioner.outbox?.stop();
      clearInterval(alive);
      await store.close();
      await db.destroy();
      process.exit(0);
    })();
  });
  signal('READY');
  await never();
}

async function main(): Promise<void> {
  switch (process.argv[2]) {
    case 'insert-then-hang':
      return insertThenHang();
    case 'dispatch':
      return dispatch(false);
    case 'hook-hang':
      return dispatch(true);
    default:
      throw new Error(`unknown scenario ${process.argv[2]}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
