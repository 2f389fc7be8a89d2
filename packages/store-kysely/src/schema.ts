import type { DialectName, Tables } from './dialect';
import { type Migration, secondMigration } from './schema-0002';
import { thirdMigration } from './schema-0003';
import { USER_FIELDS, watched } from './user-fields';

// Every column the store reads and writes, per table: hand-written SQL sees the same names on each engine.

// Frozen with 0001: a later migration that watches more columns re-creates the triggers itself.
const WATCHED = watched(USER_FIELDS);

function mysqlSchema(t: Tables, collation: string): string[] {
  // Binary, NO PAD collation wherever text lives: `Alice` and `alice`, `é` and `e`, `a` and `a ` are
  // different identities (MariaDB's default collations equate the first two, every PAD SPACE one the last).
  const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`;
  // An (issuer, subject) index would exceed InnoDB's 3072-byte key (2048 + 255 characters of 4 bytes): the
  // key is a SHA-256 of both, computed by the server, so hand-written inserts get it too.
  const identityKey =
    'identity_key BINARY(32) AS (UNHEX(SHA2(CONCAT(issuer, CHAR(0), subject), 256))) STORED';
  const same = WATCHED.map((c) => `OLD.${c} <=> NEW.${c}`).join(' AND ');
  const log = `INSERT INTO \`${t.changes}\` (user_id, issuer, subject, changed_at) VALUES (OLD.id, OLD.issuer, OLD.subject, UTC_TIMESTAMP(6))`;
  return [
    `CREATE TABLE IF NOT EXISTS \`${t.users}\` (
      id VARCHAR(255) NOT NULL PRIMARY KEY,
      issuer VARCHAR(2048) NOT NULL,
      subject VARCHAR(255) NOT NULL,
      ${identityKey},
      username VARCHAR(300) NOT NULL,
      email VARCHAR(320) NULL,
      name VARCHAR(512) NULL,
      role VARCHAR(64) NOT NULL,
      role_source VARCHAR(16) NOT NULL DEFAULT 'default',
      tenant_id VARCHAR(255) NULL,
      status VARCHAR(16) NOT NULL DEFAULT 'active',
      disabled_at DATETIME(6) NULL,
      tokens_valid_after DATETIME(6) NULL,
      last_seen_at DATETIME(6) NULL,
      created_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
      updated_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
      UNIQUE KEY ${t.users}_identity_key (identity_key),
      UNIQUE KEY ${t.users}_username_key (username),
      KEY ${t.users}_created_at_id_idx (created_at, id)
    ) ${table}`,
    `CREATE TABLE IF NOT EXISTS \`${t.reservations}\` (
      issuer VARCHAR(2048) NOT NULL,
      subject VARCHAR(255) NOT NULL,
      ${identityKey},
      token VARCHAR(64) NOT NULL,
      expires_at DATETIME(6) NOT NULL,
      UNIQUE KEY ${t.reservations}_identity_key (identity_key)
    ) ${table}`,
    `CREATE TABLE IF NOT EXISTS \`${t.invitations}\` (
      id VARCHAR(255) NOT NULL PRIMARY KEY,
      token_hash VARCHAR(255) NOT NULL,
      email VARCHAR(320) NOT NULL,
      email_key VARCHAR(320) AS (LOWER(TRIM(email))) STORED,
      role VARCHAR(64) NOT NULL,
      invited_by VARCHAR(255) NOT NULL,
      expires_at DATETIME(6) NOT NULL,
      consumed_at DATETIME(6) NULL,
      revoked_at DATETIME(6) NULL,
      created_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
      UNIQUE KEY ${t.invitations}_token_hash_key (token_hash),
      KEY ${t.invitations}_email_idx (email_key)
    ) ${table}`,
    `CREATE TABLE IF NOT EXISTS \`${t.outbox}\` (
      seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      id VARCHAR(64) NOT NULL,
      type VARCHAR(64) NOT NULL DEFAULT 'user.provisioned',
      user_id VARCHAR(255) NOT NULL,
      identity LONGTEXT NOT NULL,
      actor VARCHAR(255) NULL,
      data LONGTEXT NULL,
      status VARCHAR(16) NOT NULL DEFAULT 'pending',
      attempts INT NOT NULL DEFAULT 0,
      last_error TEXT NULL,
      available_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
      created_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
      completed_at DATETIME(6) NULL,
      UNIQUE KEY ${t.outbox}_id_key (id),
      KEY ${t.outbox}_claim_idx (status, available_at, seq),
      KEY ${t.outbox}_user_idx (user_id)
    ) ${table}`,
    `CREATE TABLE IF NOT EXISTS \`${t.changes}\` (
      seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      user_id VARCHAR(255) NOT NULL,
      issuer VARCHAR(2048) NOT NULL,
      subject VARCHAR(255) NOT NULL,
      changed_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
      KEY ${t.changes}_changed_at_idx (changed_at)
    ) ${table}`,
    `DROP TRIGGER IF EXISTS \`${t.users}_changed\``,
    `CREATE TRIGGER \`${t.users}_changed\` AFTER UPDATE ON \`${t.users}\` FOR EACH ROW
     BEGIN IF NOT (${same}) THEN ${log}; END IF; END`,
    `DROP TRIGGER IF EXISTS \`${t.users}_deleted\``,
    `CREATE TRIGGER \`${t.users}_deleted\` AFTER DELETE ON \`${t.users}\` FOR EACH ROW BEGIN ${log}; END`,
  ];
}

function sqliteSchema(t: Tables): string[] {
  const now = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
  const same = WATCHED.map((c) => `OLD.${c} IS NEW.${c}`).join(' AND ');
  const log = `INSERT INTO "${t.changes}" (user_id, issuer, subject, changed_at) VALUES (OLD.id, OLD.issuer, OLD.subject, ${now})`;
  return [
    `CREATE TABLE IF NOT EXISTS "${t.users}" (
      id TEXT NOT NULL PRIMARY KEY, issuer TEXT NOT NULL, subject TEXT NOT NULL, username TEXT NOT NULL,
      email TEXT, name TEXT, role TEXT NOT NULL,
      role_source TEXT NOT NULL DEFAULT 'default' CHECK (role_source IN ('provider', 'local', 'default')),
      tenant_id TEXT, status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
      disabled_at TEXT, tokens_valid_after TEXT, last_seen_at TEXT,
      created_at TEXT NOT NULL DEFAULT ${now}, updated_at TEXT NOT NULL DEFAULT ${now},
      UNIQUE (issuer, subject), UNIQUE (username)
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.users}_created_at_id_idx" ON "${t.users}" (created_at, id)`,
    `CREATE TABLE IF NOT EXISTS "${t.reservations}" (
      issuer TEXT NOT NULL, subject TEXT NOT NULL, token TEXT NOT NULL, expires_at TEXT NOT NULL,
      PRIMARY KEY (issuer, subject)
    )`,
    `CREATE TABLE IF NOT EXISTS "${t.invitations}" (
      id TEXT NOT NULL PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, email TEXT NOT NULL, role TEXT NOT NULL,
      invited_by TEXT NOT NULL, expires_at TEXT NOT NULL, consumed_at TEXT, revoked_at TEXT,
      created_at TEXT NOT NULL DEFAULT ${now}
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.invitations}_email_idx" ON "${t.invitations}" (lower(trim(email)))`,
    `CREATE TABLE IF NOT EXISTS "${t.outbox}" (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL DEFAULT 'user.provisioned', user_id TEXT NOT NULL, identity TEXT NOT NULL,
      actor TEXT, data TEXT,
      status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
      available_at TEXT NOT NULL DEFAULT ${now}, created_at TEXT NOT NULL DEFAULT ${now}, completed_at TEXT
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.outbox}_claim_idx" ON "${t.outbox}" (available_at, seq) WHERE status = 'pending'`,
    `CREATE INDEX IF NOT EXISTS "${t.outbox}_user_idx" ON "${t.outbox}" (user_id)`,
    `CREATE TABLE IF NOT EXISTS "${t.changes}" (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, issuer TEXT NOT NULL, subject TEXT NOT NULL,
      changed_at TEXT NOT NULL DEFAULT ${now}
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.changes}_changed_at_idx" ON "${t.changes}" (changed_at)`,
    `CREATE TRIGGER IF NOT EXISTS "${t.users}_changed" AFTER UPDATE ON "${t.users}" FOR EACH ROW
     WHEN NOT (${same}) BEGIN ${log}; END`,
    `CREATE TRIGGER IF NOT EXISTS "${t.users}_deleted" AFTER DELETE ON "${t.users}" FOR EACH ROW BEGIN ${log}; END`,
  ];
}

function postgresSchema(t: Tables): string[] {
  const same = WATCHED.map((c) => `OLD.${c} IS NOT DISTINCT FROM NEW.${c}`).join(' AND ');
  return [
    `CREATE TABLE IF NOT EXISTS "${t.users}" (
      id text PRIMARY KEY, issuer text NOT NULL, subject text NOT NULL, username text NOT NULL,
      email text, name text, role text NOT NULL,
      role_source text NOT NULL DEFAULT 'default' CHECK (role_source IN ('provider', 'local', 'default')),
      tenant_id text, status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
      disabled_at timestamptz, tokens_valid_after timestamptz, last_seen_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (issuer, subject), UNIQUE (username)
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.users}_created_at_id_idx" ON "${t.users}" (created_at, id)`,
    `CREATE TABLE IF NOT EXISTS "${t.reservations}" (
      issuer text NOT NULL, subject text NOT NULL, token text NOT NULL, expires_at timestamptz NOT NULL,
      PRIMARY KEY (issuer, subject)
    )`,
    `CREATE TABLE IF NOT EXISTS "${t.invitations}" (
      id text PRIMARY KEY, token_hash text NOT NULL UNIQUE, email text NOT NULL, role text NOT NULL,
      invited_by text NOT NULL, expires_at timestamptz NOT NULL, consumed_at timestamptz, revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.invitations}_email_idx" ON "${t.invitations}" (lower(btrim(email)))`,
    `CREATE TABLE IF NOT EXISTS "${t.outbox}" (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE,
      type text NOT NULL DEFAULT 'user.provisioned', user_id text NOT NULL, identity text NOT NULL,
      actor text, data text,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
      attempts integer NOT NULL DEFAULT 0, last_error text,
      available_at timestamptz NOT NULL DEFAULT now(), created_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.outbox}_claim_idx" ON "${t.outbox}" (available_at, seq) WHERE status = 'pending'`,
    `CREATE INDEX IF NOT EXISTS "${t.outbox}_user_idx" ON "${t.outbox}" (user_id)`,
    `CREATE TABLE IF NOT EXISTS "${t.changes}" (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id text NOT NULL, issuer text NOT NULL,
      subject text NOT NULL, changed_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.changes}_changed_at_idx" ON "${t.changes}" (changed_at)`,
    `CREATE OR REPLACE FUNCTION "${t.users}_log_change"() RETURNS trigger LANGUAGE plpgsql AS $fn$
     BEGIN
       IF TG_OP = 'UPDATE' AND (${same}) THEN RETURN NULL; END IF;
       INSERT INTO "${t.changes}" (user_id, issuer, subject) VALUES (OLD.id, OLD.issuer, OLD.subject);
       RETURN NULL;
     END $fn$`,
    `DROP TRIGGER IF EXISTS "${t.users}_changed" ON "${t.users}"`,
    `CREATE TRIGGER "${t.users}_changed" AFTER UPDATE OR DELETE ON "${t.users}"
     FOR EACH ROW EXECUTE FUNCTION "${t.users}_log_change"()`,
  ];
}

/**
 * The migrations of one dialect family, in order. Append only: never edit or rename a released one, since
 * the migrations table records names, not contents.
 */
export function migrationSets(
  dialect: DialectName,
  t: Tables,
  server: { mariadb: boolean } = { mariadb: true },
): Migration[] {
  const collation = server.mariadb ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
  const initial =
    dialect === 'mysql'
      ? mysqlSchema(t, collation)
      : dialect === 'sqlite'
        ? sqliteSchema(t)
        : postgresSchema(t);
  return [
    { name: '0001_users_reservations_invitations_outbox_changes', statements: initial },
    secondMigration(dialect, t, collation),
    thirdMigration(dialect, t, collation),
  ];
}
