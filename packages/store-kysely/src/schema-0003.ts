import type { DialectName, Tables } from './dialect';
import type { Migration, Statement } from './schema-0002';
import { USER_FIELDS, watched } from './user-fields';

// Migration 0003: the SCIM part (decision 0008). A SCIM-created row waits unbound (subject NULL, read as '')
// until the first login binds it; the identity key ignores NULL subjects on every engine. SCIM keeps the
// resource as written in `scim_users`, the emails of each resource in `scim_emails` (so a value-path filter
// is an indexed EXISTS, the same SQL on each engine), groups and memberships in `scim_groups`/`scim_members`.
// SCIM times keep milliseconds: what `meta` answers is what filters and paging compare.

const WATCHED = watched([...USER_FIELDS, 'external_id']);

function mysql(t: Tables, collation: string): Statement[] {
  const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`;
  const same = WATCHED.map((c) => `OLD.${c} <=> NEW.${c}`).join(' AND ');
  const log = `INSERT INTO \`${t.changes}\` (user_id, issuer, subject, changed_at) VALUES (OLD.id, OLD.issuer, COALESCE(OLD.subject, ''), UTC_TIMESTAMP(6))`;
  const nullable = `SELECT 1 AS done FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '${t.users}' AND column_name = 'subject' AND is_nullable = 'YES'`;
  // No partial indexes: a unique key among visible rows is a generated hash that is NULL for hidden ones
  // (a unique key holds only among non-NULL values); keys hash the issuer too (InnoDB's key length limit).
  const ciKey = (col: string, when: string) =>
    `${col}_key BINARY(32) AS (IF(${when}, UNHEX(SHA2(CONCAT(issuer, CHAR(0), LOWER(${col})), 256)), NULL)) STORED`;
  const issuerKey = 'issuer_key BINARY(32) AS (UNHEX(SHA2(issuer, 256))) STORED';
  const fk = (name: string, col: string, parent: string, parentCol: string) =>
    `CONSTRAINT \`${name}\` FOREIGN KEY (${col}) REFERENCES \`${parent}\` (${parentCol}) ON DELETE CASCADE`;
  return [
    {
      // identity_key hashes CONCAT(issuer, CHAR(0), subject): NULL for an unbound row, which the unique key ignores.
      sql: `ALTER TABLE \`${t.users}\` MODIFY subject VARCHAR(255) NULL`,
      unless: nullable,
    },
    `CREATE TABLE IF NOT EXISTS \`${t.scimUsers}\` (
      user_id VARCHAR(255) NOT NULL PRIMARY KEY,
      issuer VARCHAR(2048) NOT NULL,
      ${issuerKey},
      hidden TINYINT NOT NULL DEFAULT 0,
      user_name VARCHAR(1024) NOT NULL,
      ${ciKey('user_name', 'hidden = 0')},
      display_name VARCHAR(1024) NULL,
      given_name VARCHAR(1024) NULL,
      family_name VARCHAR(1024) NULL,
      formatted_name VARCHAR(1024) NULL,
      attributes LONGTEXT NOT NULL,
      version INT NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL,
      last_modified DATETIME(3) NOT NULL,
      UNIQUE KEY ${t.scimUsers}_user_name_key (user_name_key),
      KEY ${t.scimUsers}_page_idx (issuer_key, hidden, created_at, user_id),
      ${fk(`${t.scimUsers}_user_fk`, 'user_id', t.users, 'id')}
    ) ${table}`,
    `CREATE TABLE IF NOT EXISTS \`${t.scimEmails}\` (
      seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      user_id VARCHAR(255) NOT NULL,
      value TEXT NULL,
      type TEXT NULL,
      display TEXT NULL,
      is_primary TINYINT NULL,
      KEY ${t.scimEmails}_user_idx (user_id),
      ${fk(`${t.scimEmails}_user_fk`, 'user_id', t.users, 'id')}
    ) ${table}`,
    `CREATE TABLE IF NOT EXISTS \`${t.scimGroups}\` (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      issuer VARCHAR(2048) NOT NULL,
      ${issuerKey},
      display_name VARCHAR(1024) NOT NULL,
      ${ciKey('display_name', 'TRUE')},
      external_id VARCHAR(1024) NULL,
      attributes LONGTEXT NOT NULL,
      version INT NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL,
      last_modified DATETIME(3) NOT NULL,
      UNIQUE KEY ${t.scimGroups}_display_name_key (display_name_key),
      KEY ${t.scimGroups}_page_idx (issuer_key, created_at, id)
    ) ${table}`,
    `CREATE TABLE IF NOT EXISTS \`${t.scimMembers}\` (
      group_id VARCHAR(64) NOT NULL,
      user_id VARCHAR(255) NOT NULL,
      PRIMARY KEY (group_id, user_id),
      KEY ${t.scimMembers}_user_idx (user_id),
      ${fk(`${t.scimMembers}_group_fk`, 'group_id', t.scimGroups, 'id')},
      ${fk(`${t.scimMembers}_user_fk`, 'user_id', t.users, 'id')}
    ) ${table}`,
    // The change log's subject is NOT NULL: an unbound row's change is logged with subject ''.
    `DROP TRIGGER IF EXISTS \`${t.users}_changed\``,
    `CREATE TRIGGER \`${t.users}_changed\` AFTER UPDATE ON \`${t.users}\` FOR EACH ROW
     BEGIN IF NOT (${same}) THEN ${log}; END IF; END`,
    `DROP TRIGGER IF EXISTS \`${t.users}_deleted\``,
    `CREATE TRIGGER \`${t.users}_deleted\` AFTER DELETE ON \`${t.users}\` FOR EACH ROW BEGIN ${log}; END`,
  ];
}

function sqlite(t: Tables): Statement[] {
  const now = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
  const same = WATCHED.map((c) => `OLD.${c} IS NEW.${c}`).join(' AND ');
  const log = `INSERT INTO "${t.changes}" (user_id, issuer, subject, changed_at) VALUES (OLD.id, OLD.issuer, COALESCE(OLD.subject, ''), ${now})`;
  const next = `${t.users}_next`;
  const copied = [...USER_FIELDS, 'external_id', 'last_seen_at'].join(', ');
  // SQLite cannot drop a NOT NULL: the users table is rebuilt (its triggers and indexes go with the old one).
  // Foreign keys are off unless the app turns them on, so the SCIM rows follow their user by triggers.
  return [
    `CREATE TABLE "${next}" (
      id TEXT NOT NULL PRIMARY KEY, issuer TEXT NOT NULL, subject TEXT, username TEXT NOT NULL,
      email TEXT, name TEXT, role TEXT NOT NULL,
      role_source TEXT NOT NULL DEFAULT 'default' CHECK (role_source IN ('provider', 'local', 'default', 'scim')),
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
    `CREATE TRIGGER "${t.users}_deleted" AFTER DELETE ON "${t.users}" FOR EACH ROW BEGIN ${log};
       DELETE FROM "${t.scimUsers}" WHERE user_id = OLD.id;
       DELETE FROM "${t.scimEmails}" WHERE user_id = OLD.id;
       DELETE FROM "${t.scimMembers}" WHERE user_id = OLD.id;
     END`,
    `CREATE TABLE "${t.scimUsers}" (
      user_id TEXT NOT NULL PRIMARY KEY, issuer TEXT NOT NULL, user_name TEXT NOT NULL,
      display_name TEXT, given_name TEXT, family_name TEXT, formatted_name TEXT, attributes TEXT NOT NULL,
      version INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, last_modified TEXT NOT NULL,
      hidden INTEGER NOT NULL DEFAULT 0
    )`,
    `CREATE UNIQUE INDEX "${t.scimUsers}_user_name_key" ON "${t.scimUsers}" (issuer, lower(user_name)) WHERE hidden = 0`,
    `CREATE INDEX "${t.scimUsers}_page_idx" ON "${t.scimUsers}" (issuer, created_at, user_id) WHERE hidden = 0`,
    `CREATE TABLE "${t.scimEmails}" (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, value TEXT, type TEXT, display TEXT,
      is_primary INTEGER
    )`,
    `CREATE INDEX "${t.scimEmails}_user_idx" ON "${t.scimEmails}" (user_id)`,
    `CREATE TABLE "${t.scimGroups}" (
      id TEXT NOT NULL PRIMARY KEY, issuer TEXT NOT NULL, display_name TEXT NOT NULL, external_id TEXT,
      attributes TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL,
      last_modified TEXT NOT NULL
    )`,
    `CREATE UNIQUE INDEX "${t.scimGroups}_display_name_key" ON "${t.scimGroups}" (issuer, lower(display_name))`,
    `CREATE INDEX "${t.scimGroups}_page_idx" ON "${t.scimGroups}" (issuer, created_at, id)`,
    `CREATE TABLE "${t.scimMembers}" (
      group_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id)
    )`,
    `CREATE INDEX "${t.scimMembers}_user_idx" ON "${t.scimMembers}" (user_id)`,
    `CREATE TRIGGER "${t.scimGroups}_deleted" AFTER DELETE ON "${t.scimGroups}" FOR EACH ROW BEGIN
       DELETE FROM "${t.scimMembers}" WHERE group_id = OLD.id;
     END`,
  ];
}

function postgres(t: Tables): Statement[] {
  const same = WATCHED.map((c) => `OLD.${c} IS NOT DISTINCT FROM NEW.${c}`).join(' AND ');
  const cascade = (parent: string) => `REFERENCES "${parent}" (id) ON DELETE CASCADE`;
  return [
    // UNIQUE (issuer, subject) already ignores NULLs: an unbound row holds no identity.
    `ALTER TABLE "${t.users}" ALTER COLUMN subject DROP NOT NULL`,
    `CREATE TABLE IF NOT EXISTS "${t.scimUsers}" (
      user_id text PRIMARY KEY ${cascade(t.users)}, issuer text NOT NULL, user_name text NOT NULL,
      display_name text, given_name text, family_name text, formatted_name text, attributes text NOT NULL,
      version integer NOT NULL DEFAULT 1, created_at timestamptz NOT NULL, last_modified timestamptz NOT NULL,
      hidden smallint NOT NULL DEFAULT 0
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS "${t.scimUsers}_user_name_key" ON "${t.scimUsers}" (issuer, lower(user_name)) WHERE hidden = 0`,
    `CREATE INDEX IF NOT EXISTS "${t.scimUsers}_page_idx" ON "${t.scimUsers}" (issuer, created_at, user_id) WHERE hidden = 0`,
    `CREATE TABLE IF NOT EXISTS "${t.scimEmails}" (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id text NOT NULL ${cascade(t.users)},
      value text, type text, display text, is_primary smallint
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.scimEmails}_user_idx" ON "${t.scimEmails}" (user_id)`,
    `CREATE TABLE IF NOT EXISTS "${t.scimGroups}" (
      id text PRIMARY KEY, issuer text NOT NULL, display_name text NOT NULL, external_id text,
      attributes text NOT NULL, version integer NOT NULL DEFAULT 1, created_at timestamptz NOT NULL,
      last_modified timestamptz NOT NULL
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS "${t.scimGroups}_display_name_key" ON "${t.scimGroups}" (issuer, lower(display_name))`,
    `CREATE INDEX IF NOT EXISTS "${t.scimGroups}_page_idx" ON "${t.scimGroups}" (issuer, created_at, id)`,
    `CREATE TABLE IF NOT EXISTS "${t.scimMembers}" (
      group_id text NOT NULL ${cascade(t.scimGroups)}, user_id text NOT NULL ${cascade(t.users)},
      PRIMARY KEY (group_id, user_id)
    )`,
    `CREATE INDEX IF NOT EXISTS "${t.scimMembers}_user_idx" ON "${t.scimMembers}" (user_id)`,
    `CREATE OR REPLACE FUNCTION "${t.users}_log_change"() RETURNS trigger LANGUAGE plpgsql AS $fn$
     BEGIN
       IF TG_OP = 'UPDATE' AND (${same}) THEN RETURN NULL; END IF;
       INSERT INTO "${t.changes}" (user_id, issuer, subject) VALUES (OLD.id, OLD.issuer, COALESCE(OLD.subject, ''));
       RETURN NULL;
     END $fn$`,
  ];
}

/** 0003: SCIM (decision 0008): nullable `users.subject` for unbound rows, and the SCIM tables. */
export function thirdMigration(dialect: DialectName, t: Tables, collation: string): Migration {
  const name = '0003_scim';
  if (dialect === 'mysql') return { name, statements: mysql(t, collation) };
  if (dialect === 'postgres') return { name, statements: postgres(t) };
  return {
    name,
    statements: sqlite(t),
    unless: `SELECT 1 AS done FROM sqlite_master WHERE type = 'table' AND name = '${t.scimUsers}'`,
  };
}
