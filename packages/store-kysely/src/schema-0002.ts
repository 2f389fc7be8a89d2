import type { DialectName, Tables } from './dialect';
import { USER_FIELDS, watched } from './user-fields';

/**
 * One statement of a migration; `unless` is a query that answers a row when the statement's work is already
 * done (MySQL has no `ADD COLUMN IF NOT EXISTS`, and runs DDL outside transactions: a run cut short is
 * completed by the next one, which must skip what the first did).
 */
export type Statement = string | { sql: string; unless: string };

/**
 * A migration of one dialect family. `unless` skips all its statements (SQLite, whose migration runs in one
 * `BEGIN IMMEDIATE` transaction: a process that lost the race to another finds the work done).
 */
export interface Migration {
  name: string;
  statements: Statement[];
  unless?: string;
}

/** Migration 0002 watches `external_id` too: a SCIM change of it must reach every user cache. */
const WATCHED = watched([...USER_FIELDS, 'external_id']);

const ROLE_SOURCES = `('provider', 'local', 'default', 'scim')`;

function mysql(t: Tables, collation: string): Statement[] {
  const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`;
  const column = (name: string, col: string) =>
    `SELECT 1 AS done FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '${name}' AND column_name = '${col}'`;
  // Keys hash the issuer with the value, as the users' identity key does (an index on the columns would
  // exceed InnoDB's 3,072-byte key).
  const hashKey = (col: string) =>
    `${col}_key BINARY(32) AS (UNHEX(SHA2(CONCAT(issuer, CHAR(0), ${col}), 256))) STORED`;
  const same = WATCHED.map((c) => `OLD.${c} <=> NEW.${c}`).join(' AND ');
  const log = `INSERT INTO \`${t.changes}\` (user_id, issuer, subject, changed_at) VALUES (OLD.id, OLD.issuer, OLD.subject, UTC_TIMESTAMP(6))`;
  return [
    {
      // A NULL external_id hashes to NULL: the unique key holds only among rows that have one.
      sql: `ALTER TABLE \`${t.users}\` ADD COLUMN external_id VARCHAR(1024) NULL,
        ADD COLUMN ${hashKey('external_id')},
        ADD UNIQUE KEY ${t.users}_external_id_key (external_id_key)`,
      unless: column(t.users, 'external_id'),
    },
    {
      sql: `ALTER TABLE \`${t.changes}\` ADD COLUMN sid VARCHAR(1024) NULL, ADD COLUMN expires_at DATETIME(6) NULL`,
      unless: column(t.changes, 'sid'),
    },
    `CREATE TABLE IF NOT EXISTS \`${t.logoutJtis}\` (
      issuer VARCHAR(2048) NOT NULL,
      jti VARCHAR(1024) NOT NULL,
      ${hashKey('jti')},
      expires_at DATETIME(6) NOT NULL,
      UNIQUE KEY ${t.logoutJtis}_key (jti_key),
      KEY ${t.logoutJtis}_expires_idx (expires_at)
    ) ${table}`,
    `CREATE TABLE IF NOT EXISTS \`${t.revokedSessions}\` (
      issuer VARCHAR(2048) NOT NULL,
      sid VARCHAR(1024) NOT NULL,
      ${hashKey('sid')},
      expires_at DATETIME(6) NOT NULL,
      UNIQUE KEY ${t.revokedSessions}_key (sid_key),
      KEY ${t.revokedSessions}_expires_idx (expires_at)
    ) ${table}`,
    `DROP TRIGGER IF EXISTS \`${t.users}_changed\``,
    `CREATE TRIGGER \`${t.users}_changed\` AFTER UPDATE ON \`${t.users}\` FOR EACH ROW
     BEGIN IF NOT (${same}) THEN ${log}; END IF; END`,
  ];
}

function sqlite(t: Tables): Statement[] {
  const now = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
  const same = WATCHED.map((c) => `OLD.${c} IS NEW.${c}`).join(' AND ');
  const log = `INSERT INTO "${t.changes}" (user_id, issuer, subject, changed_at) VALUES (OLD.id, OLD.issuer, OLD.subject, ${now})`;
  const next = `${t.users}_next`;
  const copied = [...USER_FIELDS, 'last_seen_at'].join(', ');
  // SQLite cannot alter a CHECK: the users table is rebuilt (its triggers and indexes go with the old one).
  return [
    `CREATE TABLE "${next}" (
      id TEXT NOT NULL PRIMARY KEY, issuer TEXT NOT NULL, subject TEXT NOT NULL, username TEXT NOT NULL,
      email TEXT, name TEXT, role TEXT NOT NULL,
      role_source TEXT NOT NULL DEFAULT 'default' CHECK (role_source IN ${ROLE_SOURCES}),
      tenant_id TEXT, external_id TEXT, status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
      disabled_at TEXT, tokens_valid_after TEXT, last_seen_at TEXT,
      created_at TEXT NOT NULL DEFAULT ${now}, updated_at TEXT NOT NULL DEFAULT ${now},
      UNIQUE (issuer, subject), UNIQUE (username)
    )`,
    `INSERT INTO "${next}" (${copied}) SELECT ${copied} FROM "${t.users}"`,
    `DROP TABLE "${t.users}"`,
    `ALTER TABLE "${next}" RENAME TO "${t.users}"`,
    `CREATE INDEX "${t.users}_created_at_id_idx" ON "${t.users}" (created_at, id)`,
    `CREATE UNIQUE INDEX "${t.users}_external_id_key" ON "${t.users}" (issuer, external_id) WHERE external_id IS NOT NULL`,
    `CREATE TRIGGER "${t.users}_changed" AFTER UPDATE ON "${t.users}" FOR EACH ROW
     WHEN NOT (${same}) BEGIN ${log}; END`,
    `CREATE TRIGGER "${t.users}_deleted" AFTER DELETE ON "${t.users}" FOR EACH ROW BEGIN ${log}; END`,
    `ALTER TABLE "${t.changes}" ADD COLUMN sid TEXT`,
    `ALTER TABLE "${t.changes}" ADD COLUMN expires_at TEXT`,
    `CREATE TABLE "${t.logoutJtis}" (
      issuer TEXT NOT NULL, jti TEXT NOT NULL, expires_at TEXT NOT NULL, PRIMARY KEY (issuer, jti)
    )`,
    `CREATE INDEX "${t.logoutJtis}_expires_idx" ON "${t.logoutJtis}" (expires_at)`,
    `CREATE TABLE "${t.revokedSessions}" (
      issuer TEXT NOT NULL, sid TEXT NOT NULL, expires_at TEXT NOT NULL, PRIMARY KEY (issuer, sid)
    )`,
    `CREATE INDEX "${t.revokedSessions}_expires_idx" ON "${t.revokedSessions}" (expires_at)`,
  ];
}

function postgres(t: Tables): Statement[] {
  const same = WATCHED.map((c) => `OLD.${c} IS NOT DISTINCT FROM NEW.${c}`).join(' AND ');
  // The name Postgres gave 0001's unnamed column CHECK.
  const check = `${t.users}_role_source_check`;
  return [
    `ALTER TABLE "${t.users}" ADD COLUMN IF NOT EXISTS external_id text`,
    `CREATE UNIQUE INDEX IF NOT EXISTS "${t.users}_external_id_key" ON "${t.users}" (issuer, external_id)
     WHERE external_id IS NOT NULL`,
    `ALTER TABLE "${t.users}" DROP CONSTRAINT IF EXISTS "${check}"`,
    `ALTER TABLE "${t.users}" ADD CONSTRAINT "${check}" CHECK (role_source IN ${ROLE_SOURCES})`,
    `ALTER TABLE "${t.changes}" ADD COLUMN IF NOT EXISTS sid text, ADD COLUMN IF NOT EXISTS expires_at timestamptz`,
    `CREATE TABLE IF NOT EXISTS "${t.logoutJtis}" (
      issuer text NOT NULL, jti text NOT NULL, expires_at timestamptz NOT NULL, PRIMARY KEY (issuer, jti)
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.logoutJtis}_expires_idx" ON "${t.logoutJtis}" (expires_at)`,
    `CREATE TABLE IF NOT EXISTS "${t.revokedSessions}" (
      issuer text NOT NULL, sid text NOT NULL, expires_at timestamptz NOT NULL, PRIMARY KEY (issuer, sid)
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.revokedSessions}_expires_idx" ON "${t.revokedSessions}" (expires_at)`,
    `CREATE OR REPLACE FUNCTION "${t.users}_log_change"() RETURNS trigger LANGUAGE plpgsql AS $fn$
     BEGIN
       IF TG_OP = 'UPDATE' AND (${same}) THEN RETURN NULL; END IF;
       INSERT INTO "${t.changes}" (user_id, issuer, subject) VALUES (OLD.id, OLD.issuer, OLD.subject);
       RETURN NULL;
     END $fn$`,
  ];
}

/**
 * 0002: the `logout` part's tables (logout-token jtis, revoked sessions), revoked sessions carried by the
 * change log (`sid`, `expires_at`), `users.external_id` unique per issuer, and role source `'scim'`.
 */
export function secondMigration(dialect: DialectName, t: Tables, collation: string): Migration {
  const name = '0002_logout_external_id';
  if (dialect === 'mysql') return { name, statements: mysql(t, collation) };
  if (dialect === 'postgres') return { name, statements: postgres(t) };
  return {
    name,
    statements: sqlite(t),
    unless: `SELECT 1 AS done FROM pragma_table_info('${t.users}') WHERE name = 'external_id'`,
  };
}
