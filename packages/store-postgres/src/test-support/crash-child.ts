/**
 * A real app process for the crash tests (run with tsx). It signals progress on stdout, one line per
 * step, so the parent can SIGKILL it at an exact point. Scenarios:
 * - reserve-then-hang: createUser mode; the app's createUser never returns (kill → orphaned reservation).
 * - insert-then-hang:  outbox mode; stops right after the user row (and its event) is written, before any
 *                      delivery (kill → pending event, no delivery).
 * - dispatch:          outbox mode; a dispatcher whose hook records each delivery in `deliveries`.
 * - hook-hang:         outbox mode; the hook announces itself and never returns (kill during delivery).
 */
import { createProvisioner, type Identity, type ProvisionedEvent, type Store } from '@jit-provision/core';
import pg from 'pg';
import { createPostgresStore } from '../index';
import { env } from './child-env';

const signal = (line: string) => process.stdout.write(`${line}\n`);
const never = () => new Promise<never>(() => {});

const schema = env('CRASH_SCHEMA');
const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 4 });
pool.on('error', () => {});
const store = createPostgresStore({ pool, schema });
const identity: Identity = { issuer: env('CRASH_ISSUER'), subject: process.env['CRASH_SUBJECT'] ?? 'unused' };
const leaseMs = Number(process.env['CRASH_LEASE_MS'] ?? 1_500);
const logger = {
  warn: () => {},
  error: (obj: Record<string, unknown>, msg?: string) => console.error(msg, obj),
};

const recordDelivery = async (event: ProvisionedEvent) => {
  await pool.query(`INSERT INTO "${schema}".deliveries (event_id, user_id, pid) VALUES ($1, $2, $3)`, [
    event.eventId,
    event.user.id,
    process.pid,
  ]);
};

async function main(): Promise<void> {
  switch (process.argv[2]) {
    case 'reserve-then-hang': {
      const provisioner = createProvisioner({
        store,
        userCache: false,
        tokenCache: false,
        logger,
        reservation: { leaseMs },
        createUser: async () => {
          signal('RESERVED');
          return never();
        },
      });
      await provisioner.ensureUserExists(identity);
      return;
    }
    case 'insert-then-hang': {
      const stalling = new Proxy(store, {
        get(target, property, receiver) {
          // A first login creates through lookupOrCreate (one statement), other creations through upsert.
          if (property !== 'upsert' && property !== 'lookupOrCreate')
            return Reflect.get(target, property, receiver);
          return async (input: Parameters<Store['upsert']>[0]) => {
            const outcome = await (property === 'upsert'
              ? target.upsert(input)
              : target.lookupOrCreate(input));
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
      return;
    }
    case 'dispatch':
    case 'hook-hang': {
      const hang = process.argv[2] === 'hook-hang';
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
      signal('READY');
      process.on('SIGTERM', () => {
        void provisioner.outbox?.stop().then(() => pool.end().then(() => process.exit(0)));
      });
      await never();
      return;
    }
    default:
      throw new Error(`unknown scenario ${process.argv[2]}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
