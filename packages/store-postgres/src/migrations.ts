import { StoreUnavailableError } from '@jit-provision/core';
import pg from 'pg';
import { assertConfigOneEndpoint, assertOneEndpoint } from './connection-target';
import { isConnectionError } from './pg-errors';
import { guardPool } from './pool-guard';
import { DEFAULT_SCHEMA, quoteSchema } from './schema-name';

/** One versioned schema change. `sql` gets the quoted schema name; it runs in a transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: (schema: string) => string;
}

/**
 * Every migration, in order. Append only: never edit or renumber a released one, since `migrations`
 * records versions, not contents.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, reservations, invitations',
    sql: (s) => `
      CREATE TABLE IF NOT EXISTS ${s}.users (
        id text PRIMARY KEY,
        issuer text NOT NULL,
        subject text NOT NULL,
        username text NOT NULL,
        email text,
        name text,
        role text NOT NULL,
        tenant_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_issuer_subject_key UNIQUE (issuer, subject),
        CONSTRAINT users_username_key UNIQUE (username)
      );
      CREATE TABLE IF NOT EXISTS ${s}.reservations (
        issuer text NOT NULL,
        subject text NOT NULL,
        token text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (issuer, subject)
      );
      CREATE TABLE IF NOT EXISTS ${s}.invitations (
        id text PRIMARY KEY,
        token_hash text NOT NULL,
        email text NOT NULL,
        role text NOT NULL,
        invited_by text NOT NULL,
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT invitations_token_hash_key UNIQUE (token_hash)
      );
      CREATE INDEX IF NOT EXISTS invitations_email_idx ON ${s}.invitations (lower(btrim(email)));
    `,
  },
  {
    version: 2,
    name: 'outbox',
    // Events are written by the same statement as their user row (hookDelivery: 'outbox').
    sql: (s) => `
      CREATE TABLE IF NOT EXISTS ${s}.outbox (
        id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
        type text NOT NULL DEFAULT 'user.provisioned',
        user_id text NOT NULL,
        identity jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        available_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        completed_at timestamptz
      );
      CREATE INDEX IF NOT EXISTS outbox_due_idx ON ${s}.outbox (available_at) WHERE status = 'pending';
    `,
  },
  {
    version: 3,
    name: 'user lifecycle',
    // Constant defaults: no table rewrite on Postgres ≥ 11. The outbox keeps no foreign key to users, so a
    // deleted user's pending events are still delivered.
    sql: (s) => `
      ALTER TABLE ${s}.users
        ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active',
        ADD COLUMN IF NOT EXISTS disabled_at timestamptz,
        ADD COLUMN IF NOT EXISTS tokens_valid_after timestamptz,
        ADD COLUMN IF NOT EXISTS last_seen_at timestamptz;
      ALTER TABLE ${s}.users
        ADD CONSTRAINT users_status_check CHECK (status IN ('active', 'disabled'));
      -- listUsers: keyset pages in (created_at, id) order.
      CREATE INDEX IF NOT EXISTS users_created_at_id_idx ON ${s}.users (created_at, id);
      ALTER TABLE ${s}.outbox
        ADD COLUMN IF NOT EXISTS actor text,
        ADD COLUMN IF NOT EXISTS data jsonb;
    `,
  },
  {
    version: 4,
    name: 'users change notifications',
    // Every UPDATE that changes a column other than updated_at/last_seen_at, and every DELETE, NOTIFYs the
    // schema's channel (see changes.ts) with the row's id and key before the change: that is what a cache
    // holds. A payload near the 8000-byte limit (a pathological issuer or id) becomes a resync request.
    sql: (s) => `
      CREATE OR REPLACE FUNCTION ${s}.notify_user_change() RETURNS trigger
      LANGUAGE plpgsql AS $fn$
      DECLARE
        payload text;
      BEGIN
        IF TG_OP = 'UPDATE'
           AND to_jsonb(OLD) - 'updated_at' - 'last_seen_at' = to_jsonb(NEW) - 'updated_at' - 'last_seen_at' THEN
          RETURN NULL;
        END IF;
        payload := json_build_object('id', OLD.id, 'issuer', OLD.issuer, 'subject', OLD.subject)::text;
        IF octet_length(payload) > 7900 THEN
          payload := '{"resync":true}';
        END IF;
        PERFORM pg_notify('jit_provision_users_' || md5(TG_TABLE_SCHEMA), payload);
        RETURN NULL;
      END
      $fn$;
      DROP TRIGGER IF EXISTS users_notify_change ON ${s}.users;
      CREATE TRIGGER users_notify_change AFTER UPDATE OR DELETE ON ${s}.users
        FOR EACH ROW EXECUTE FUNCTION ${s}.notify_user_change();
    `,
  },
  {
    version: 5,
    name: 'users role source',
    // Who decided a user's role. Rows from before this version cannot tell, so all of them start as
    // 'default' (docs/roles.md: mark earlier local grants 'local' before turning a role mapping on).
    sql: (s) => `
      ALTER TABLE ${s}.users
        ADD COLUMN IF NOT EXISTS role_source text NOT NULL DEFAULT 'default'
          CONSTRAINT users_role_source_check CHECK (role_source IN ('provider', 'local', 'default'));
    `,
  },
  {
    version: 6,
    name: 'outbox claim index',
    // The claim orders by (available_at, created_at); an index on available_at alone made it sort every
    // row sharing one available_at (all the events of one transaction) on each claim. This index serves
    // the whole order and replaces that one. Its build blocks writes to the outbox: on a large outbox,
    // create it first with CREATE INDEX CONCURRENTLY under the same name (the migration then skips it).
    sql: (s) => `
      CREATE INDEX IF NOT EXISTS outbox_claim_idx ON ${s}.outbox (available_at, created_at) WHERE status = 'pending';
      DROP INDEX IF EXISTS ${s}.outbox_due_idx;
    `,
  },
  {
    version: 7,
    name: 'back-channel logout: logout token jtis, revoked sessions',
    // Both purged by expiry (store.logout.purgeExpired, and now and then by claimJti): a jti only as long
    // as a logout token with it could be accepted, a sid as long as an access token carrying it could live.
    sql: (s) => `
      CREATE TABLE IF NOT EXISTS ${s}.logout_jtis (
        issuer text NOT NULL,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (issuer, jti)
      );
      CREATE INDEX IF NOT EXISTS logout_jtis_expires_idx ON ${s}.logout_jtis (expires_at);
      CREATE TABLE IF NOT EXISTS ${s}.revoked_sessions (
        issuer text NOT NULL,
        sid text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (issuer, sid)
      );
      CREATE INDEX IF NOT EXISTS revoked_sessions_expires_idx ON ${s}.revoked_sessions (expires_at);
    `,
  },
  {
    version: 8,
    name: 'SCIM: users.external_id, unbound rows, scim_users, scim_groups, scim_members',
    // Decision 0008. A SCIM-created row waits unbound (subject NULL: the (issuer, subject) key ignores NULLs)
    // until the first login whose externalIdClaim equals external_id binds it. userName is unique per issuer
    // among visible SCIM users only: a hidden one (onDelete 'disable') keeps its row for a re-POST. The
    // notify trigger is redefined so an unbound row's change carries subject '' instead of forcing a resync.
    sql: (s) => `
      ALTER TABLE ${s}.users ADD COLUMN IF NOT EXISTS external_id text;
      ALTER TABLE ${s}.users ALTER COLUMN subject DROP NOT NULL;
      CREATE UNIQUE INDEX IF NOT EXISTS users_issuer_external_id_key
        ON ${s}.users (issuer, external_id) WHERE external_id IS NOT NULL;
      ALTER TABLE ${s}.users DROP CONSTRAINT IF EXISTS users_role_source_check;
      ALTER TABLE ${s}.users ADD CONSTRAINT users_role_source_check
        CHECK (role_source IN ('provider', 'local', 'scim', 'default'));
      CREATE TABLE IF NOT EXISTS ${s}.scim_users (
        user_id text PRIMARY KEY REFERENCES ${s}.users (id) ON DELETE CASCADE,
        issuer text NOT NULL,
        user_name text NOT NULL,
        display_name text,
        given_name text,
        family_name text,
        formatted_name text,
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_modified timestamptz NOT NULL DEFAULT now(),
        hidden boolean NOT NULL DEFAULT false
      );
      CREATE UNIQUE INDEX IF NOT EXISTS scim_users_user_name_key
        ON ${s}.scim_users (issuer, lower(user_name)) WHERE NOT hidden;
      CREATE INDEX IF NOT EXISTS scim_users_page_idx ON ${s}.scim_users (issuer, created_at, user_id) WHERE NOT hidden;
      CREATE INDEX IF NOT EXISTS scim_users_display_name_idx
        ON ${s}.scim_users (issuer, lower(display_name)) WHERE NOT hidden;
      CREATE TABLE IF NOT EXISTS ${s}.scim_groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        issuer text NOT NULL,
        display_name text NOT NULL,
        external_id text,
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_modified timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX IF NOT EXISTS scim_groups_display_name_key
        ON ${s}.scim_groups (issuer, lower(display_name));
      CREATE INDEX IF NOT EXISTS scim_groups_external_id_idx
        ON ${s}.scim_groups (issuer, external_id) WHERE external_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS scim_groups_page_idx ON ${s}.scim_groups (issuer, created_at, id);
      CREATE TABLE IF NOT EXISTS ${s}.scim_members (
        group_id uuid NOT NULL REFERENCES ${s}.scim_groups (id) ON DELETE CASCADE,
        user_id text NOT NULL REFERENCES ${s}.users (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      );
      CREATE INDEX IF NOT EXISTS scim_members_user_idx ON ${s}.scim_members (user_id);
      CREATE OR REPLACE FUNCTION ${s}.notify_user_change() RETURNS trigger
      LANGUAGE plpgsql AS $fn$
      DECLARE
        payload text;
      BEGIN
        IF TG_OP = 'UPDATE'
           AND to_jsonb(OLD) - 'updated_at' - 'last_seen_at' = to_jsonb(NEW) - 'updated_at' - 'last_seen_at' THEN
          RETURN NULL;
        END IF;
        payload := json_build_object('id', OLD.id, 'issuer', OLD.issuer, 'subject', COALESCE(OLD.subject, ''))::text;
        IF octet_length(payload) > 7900 THEN
          payload := '{"resync":true}';
        END IF;
        PERFORM pg_notify('jit_provision_users_' || md5(TG_TABLE_SCHEMA), payload);
        RETURN NULL;
      END
      $fn$;
    `,
  },
];

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Schema to create the tables in (created if missing). Default `jit_provision`. */
  schema?: string;
}

/** Create the schema and its `migrations` table if missing, then apply what is pending; inside the caller's transaction. */
async function applyPending(client: pg.PoolClient, s: string): Promise<number[]> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${s}.migrations (
       version integer PRIMARY KEY,
       name text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const done = await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations`);
  const applied = new Set(done.rows.map((row) => row.version));
  const ran: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    await client.query(migration.sql(s));
    await client.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
      migration.version,
      migration.name,
    ]);
    ran.push(migration.version);
  }
  return ran;
}

/**
 * Apply pending migrations and return the versions applied by this call (empty when up to date).
 *
 * One transaction holds everything: a transaction-scoped advisory lock per schema (so several processes may
 * run it at start-up at once), the schema, and every pending migration. A transaction is the unit a pooler
 * in transaction mode (PgBouncer) keeps on one server session, so the lock holds there too, and it ends
 * with the transaction whatever happens: nothing is left locked in a pooled session. The upgrade is
 * all-or-nothing: a failing migration leaves the database at the version it was.
 */
export async function runMigrations(
  poolOrConnectionString: pg.Pool | string,
  options: MigrateOptions = {},
): Promise<number[]> {
  const schemaName = options.schema ?? DEFAULT_SCHEMA;
  const s = quoteSchema(schemaName);
  if (typeof poolOrConnectionString === 'string') {
    assertOneEndpoint('the connection string', { connectionString: poolOrConnectionString });
  } else {
    assertConfigOneEndpoint('the pool', poolOrConnectionString.options);
  }
  const ownPool =
    typeof poolOrConnectionString === 'string'
      ? new pg.Pool({ connectionString: poolOrConnectionString, max: 1 })
      : undefined;
  const pool = ownPool ?? (poolOrConnectionString as pg.Pool);
  // The client below is held across many queries; a backend that dies between them must fail the next
  // query, not crash the process with an unheard 'error' event.
  guardPool(pool);
  let client: pg.PoolClient | undefined;
  let broken = false;
  try {
    client = await pool.connect();
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `jit-provision:migrate:${schemaName}`,
      ]);
      const ran = await applyPending(client, s);
      await client.query('COMMIT');
      return ran;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    }
  } catch (error) {
    broken = broken || isConnectionError(error);
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreUnavailableError(`jit-provision migrations failed: ${reason}`, { cause: error });
  } finally {
    client?.release(broken);
    await ownPool?.end();
  }
}

/**
 * Create or update the store's tables. Idempotent, and safe to run from several processes at once (a
 * transaction-scoped advisory lock serialises them, also through PgBouncer in transaction mode); applied
 * versions are recorded in `<schema>.migrations`, and an upgrade applies all pending versions or none.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migrate } from '@jit-provision/store-postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool); // tables in schema `jit_provision`
 * ```
 */
export async function migrate(
  poolOrConnectionString: pg.Pool | string,
  options: MigrateOptions = {},
): Promise<void> {
  await runMigrations(poolOrConnectionString, options);
}
