import { runStoreConformance } from '@jit-provision/core/testing';
import { afterAll, beforeAll } from 'vitest';
import { createPostgresStore } from '../src/index';
import { createTestDatabase, type TestDatabase } from './database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('conformance');
});
afterAll(async () => {
  await db?.close();
});

runStoreConformance({
  name: `store-postgres (${process.env['DATABASE_URL'] ? 'Postgres' : 'PGlite'})`,
  createStore: () => createPostgresStore({ pool: db.pool, schema: db.schema }),
});
