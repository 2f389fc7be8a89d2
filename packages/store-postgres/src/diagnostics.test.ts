import { createProvisioner, type Logger } from '@jit-provision/core';
import { authenticateRequest } from '@jit-provision/core/adapter';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPostgresStore, migrate } from './index';
import { createTestDatabase, type TestDatabase } from './test-support/database';

// Forgotten migrations: every request answers 503, and the server log must say why, once.
let db: TestDatabase;
let idp: DevIssuer;
beforeAll(async () => {
  [db, idp] = await Promise.all([createTestDatabase('unmigrated', { migrate: false }), createDevIssuer()]);
});
afterAll(async () => {
  await Promise.all([db?.close(), idp?.close()]);
});

function setup() {
  const logger = { warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>() };
  const store = createPostgresStore({
    pool: db.pool,
    schema: db.schema,
    // PGlite serves one session: a change-feed listener would hold it for good.
    ...(db.kind === 'pglite' ? { listen: false as const } : {}),
  });
  const provisioner = createProvisioner({
    store,
    issuers: [{ issuer: idp.issuer, audience: 'api' }],
    logger,
  });
  const request = async (sub: string) =>
    authenticateRequest(provisioner, {
      headers: { authorization: `Bearer ${await idp.mint({ sub }, { audience: 'api' })}` },
      path: '/',
      method: 'GET',
    });
  return { logger, provisioner, request };
}

describe('an unmigrated schema', () => {
  it('missing schema: every request 503, one log line naming the migrate command', async () => {
    const { logger, request } = setup();
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => request(`u${i % 4}`)));
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.response.body.error).toBe('provisioning_unavailable');
    }
    expect(logger.error).toHaveBeenCalledTimes(1);
    const [fields, message] = logger.error.mock.calls[0] ?? [];
    // Postgres reports a table in a missing schema as a missing relation (42P01), not 3F000.
    expect(fields).toMatchObject({ reason: 'schema_not_migrated', causeCode: '42P01' });
    expect(message).toContain('jit-provision-migrate');
  });

  it('missing tables in an existing schema (42P01): the same one line, and check() names the command', async () => {
    await db.pool.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"`);
    const { logger, request, provisioner } = setup();
    for (let i = 0; i < 10; i++) expect((await request('again')).ok).toBe(false);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0]?.[0]).toMatchObject({
      reason: 'schema_not_migrated',
      causeCode: '42P01',
    });

    const report = await provisioner.check();
    expect(report.ok).toBe(false);
    const storeEntry = report.checks.find((c) => c.name === 'store');
    expect(storeEntry?.ok).toBe(false);
    expect(storeEntry?.detail).toContain('jit-provision-migrate');
    expect(report.checks.find((c) => c.name === `issuer ${idp.issuer}`)?.ok).toBe(true);
  });

  it('a schema behind this store, then a migrated one: check() says so, then ok', async () => {
    await migrate(db.pool, { schema: db.schema });
    const { provisioner, request, logger } = setup();
    await db.pool.query(
      `DELETE FROM "${db.schema}".migrations WHERE version = (SELECT max(version) FROM "${db.schema}".migrations)`,
    );
    const behind = await provisioner.check();
    expect(behind.ok).toBe(false);
    expect(behind.checks.find((c) => c.name === 'store')?.detail).toContain('jit-provision-migrate');

    await migrate(db.pool, { schema: db.schema });
    const report = await provisioner.check();
    expect(report).toEqual({
      ok: true,
      checks: [
        { name: `issuer ${idp.issuer}`, ok: true, detail: expect.any(String) },
        { name: 'store', ok: true, detail: expect.stringContaining(db.schema) },
      ],
    });
    expect((await request('migrated')).ok).toBe(true);
    expect(logger.error).not.toHaveBeenCalled();
  });
});
