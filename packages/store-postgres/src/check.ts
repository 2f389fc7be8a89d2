import type { StoreCheckResult } from '@jit-provision/core';
import type { Executor } from './executor';
import { MIGRATIONS } from './migrations';
import { sqlState, unavailableReason } from './pg-errors';
import { quoteSchema } from './schema-name';

/**
 * `store.check()`: is the schema migrated to the version this store needs? Answers rather than throws, so a
 * health check can tell "not migrated" (with the command that fixes it) from "unreachable".
 */
export async function checkSchema(db: Executor, schema: string): Promise<StoreCheckResult> {
  const s = quoteSchema(schema);
  const needed = Math.max(...MIGRATIONS.map((m) => m.version));
  const migrateHint = `run \`jit-provision-migrate --schema ${schema}\` (DATABASE_URL names the database) or call migrate()`;
  try {
    const rows = await db.rows<{ version: number | null }>(
      { text: `SELECT max(version) AS version FROM ${s}.migrations` },
      { retry: true },
    );
    const version = rows[0]?.version ?? 0;
    if (version < needed) {
      return {
        ok: false,
        detail: `schema "${schema}" is at version ${version}, this store needs ${needed}: ${migrateHint}`,
      };
    }
    const newer = version > needed ? `, newer than this store's ${needed}` : ' (current)';
    return { ok: true, detail: `schema "${schema}" at version ${version}${newer}` };
  } catch (error) {
    const reason = unavailableReason(error);
    if (reason === 'schema_not_migrated') {
      return { ok: false, detail: `schema "${schema}" not migrated: ${migrateHint}` };
    }
    const code = sqlState(error) ?? (error instanceof Error ? error.message : String(error));
    return {
      ok: false,
      detail: `the user database is ${reason === 'unreachable' ? 'unreachable' : 'failing'} (${code})`,
    };
  }
}
