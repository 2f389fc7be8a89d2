import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInvalidationFleet, scimActiveChanges } from './test-support/fleet';

const DATABASE_URL = process.env['DATABASE_URL'];
const PROCESSES = 4;
const CHANGES = 20;

// Deprovisioning must reach every instance: 4 app processes serve the user from their caches (TTL 10 minutes,
// so only the store's change feed can tell them), and a SCIM PATCH of `active` in a fifth process must be
// refused, then served again, by each. Needs a real Postgres server (LISTEN/NOTIFY across processes).
describe.skipIf(DATABASE_URL === undefined)('SCIM deprovisioning across processes (Postgres)', () => {
  const schema = `scim_fleet_${randomBytes(4).toString('hex')}`;
  let admin: pg.Pool;
  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const { migrate } = await import('@jit-provision/store-postgres');
    await migrate(admin, { schema });
  });
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
  });

  it(`${PROCESSES} processes with the user cached: each SCIM active false is refused and each active true served by all`, async () => {
    const variants = scimActiveChanges();
    const { latencies } = await runInvalidationFleet({
      url: DATABASE_URL as string,
      schema,
      processes: PROCESSES,
      changes: CHANGES,
      variants,
      // A hang detector far below the cache TTL, not a latency bound (that is measured in bench/, `bench scim`).
      deadlineMs: 15_000,
    });
    for (const variant of variants)
      expect(latencies[variant.name]).toHaveLength((PROCESSES * CHANGES) / variants.length);
  }, 120_000);
});
