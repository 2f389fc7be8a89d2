import { randomBytes } from 'node:crypto';
import { createMemoryStore } from '@jit-provision/store-memory';
import { createPostgresStore, migrate, type PostgresStore } from '@jit-provision/store-postgres';
import type { AdminApiSuiteOptions } from '@jit-provision/testing';
import { runAdminApiSuite } from '@jit-provision/testing';
import { Hono } from 'hono';
import { afterAll, describe } from 'vitest';
import { adminApi } from './index';

const mount: AdminApiSuiteOptions['mount'] = (options) => {
  const app = new Hono();
  app.route('/admin/api', adminApi(options));
  return {
    // Through Hono's real request pipeline; the env is what @hono/node-server passes (its Node request).
    async request({ method, path, headers, body, ip }) {
      const env = ip === undefined ? undefined : { incoming: { socket: { remoteAddress: ip } } };
      const res = await app.request(
        path,
        { method, ...(headers ? { headers } : {}), ...(body ? { body } : {}) },
        env,
      );
      const text = await res.text();
      return {
        status: res.status,
        headers: Object.fromEntries(res.headers),
        body: text ? JSON.parse(text) : undefined,
      };
    },
  };
};

runAdminApiSuite({ name: 'hono', createStore: createMemoryStore, mount });

// The same matrix on store-postgres: one migrated schema shared by the cases (each uses its own emails).
const DATABASE_URL = process.env['DATABASE_URL'];
describe.skipIf(DATABASE_URL === undefined)('with store-postgres (needs DATABASE_URL)', () => {
  const schema = `admin_${randomBytes(4).toString('hex')}`;
  let store: PostgresStore | undefined;
  afterAll(async () => {
    await store?.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await store?.close();
  });
  runAdminApiSuite({
    name: 'hono + store-postgres',
    async createStore() {
      if (store === undefined) {
        await migrate(DATABASE_URL as string, { schema });
        store = createPostgresStore({ connectionString: DATABASE_URL as string, schema });
      }
      return store;
    },
    mount,
  });
});
