import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimStatement } from './outbox';
import { createTestDatabase, type TestDatabase } from './test-support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('outbox_plan');
});
afterAll(async () => {
  await db?.close();
});

describe('outbox claim plan', () => {
  it('events written in one transaction (one available_at) are claimed through the index, without a sort', async () => {
    const s = `"${db.schema}"`;
    // Like a bulk import with events: every row shares the transaction's now().
    await db.pool.query(
      `INSERT INTO ${s}.outbox (user_id, identity)
       SELECT 'u' || i, '{}'::jsonb FROM generate_series(1, 20000) i`,
    );
    await db.pool.query(`ANALYZE ${s}.outbox`);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      // The claim's own text, planned with its parameters (a prepared statement's custom plan).
      await client.query(`PREPARE claim_plan(bigint, double precision) AS ${claimStatement(db.schema)}`);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>('EXPLAIN EXECUTE claim_plan(10, 60000)');
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      // Before migration 6, the partial index covered available_at only: every tied row was sorted on
      // created_at for each claim (100k tied events drained at 150/s instead of 2,072/s).
      expect(plan).not.toMatch(/Sort/);
      expect(plan).toContain('outbox_claim_idx');
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
    }
  });
});
