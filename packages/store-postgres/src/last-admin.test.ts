import { randomBytes } from 'node:crypto';
import { createProvisioner, type Provisioner } from '@jit-provision/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, migrate } from './index';

// Two pools, two provisioners: two app instances as the database sees them (separate sessions, no shared
// in-process queue). Needs the real server; PGlite is one session.
const DATABASE_URL = process.env['DATABASE_URL'];
const ISSUER = 'https://last-admin.jit-provision.test';

describe.skipIf(DATABASE_URL === undefined)(
  'last_admin across instances (skipped without DATABASE_URL: PGlite is a single session)',
  () => {
    const schema = `last_admin_${randomBytes(4).toString('hex')}`;
    const pools: pg.Pool[] = [];
    const instances: Provisioner[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 2; i++) {
        const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
        pools.push(pool);
        if (i === 0) await migrate(pool, { schema });
        instances.push(
          createProvisioner({ store: createPostgresStore({ pool, schema }), issuers: [], userCache: false }),
        );
      }
    });
    afterAll(async () => {
      for (const instance of instances) await instance.close();
      await pools[0]?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      for (const pool of pools) await pool.end();
    });

    it('two instances removing the last two admins at once (demote, disable, delete): one admin always remains', async () => {
      const [one, two] = instances as [Provisioner, Provisioner];
      for (let round = 0; round < 5; round++) {
        const a = await one.preProvision({ issuer: ISSUER, subject: `a-${round}`, role: 'admin' });
        const b = await one.preProvision({ issuer: ISSUER, subject: `b-${round}`, role: 'admin' });
        const keep = { actor: 'test', keepAdmin: true };
        const settled = await Promise.allSettled([
          one.setRole(a.id, 'user', keep),
          two.disable(b.id, keep),
          one.deleteUser(b.id, keep),
          two.setRole(a.id, 'user', keep),
          two.deleteUser(a.id, keep),
          one.disable(b.id, keep),
        ]);
        const codes = settled.flatMap((s) =>
          s.status === 'rejected' ? [(s.reason as { code?: unknown }).code] : [],
        );
        for (const code of codes) expect(['last_admin', 'user_not_found']).toContain(code);
        expect(codes).toContain('last_admin');
        const admins = await one.listUsers({ role: 'admin', status: 'active', limit: 10 });
        expect(admins.users).toHaveLength(1);
        // Start the next round from no admins of this round's making.
        for (const user of admins.users) await one.setRole(user.id, 'user');
      }
    });
  },
);
