import { createHash, randomUUID } from 'node:crypto';
import {
  ReservationConflictError,
  ScimConflictError,
  type ScimNewUser,
  type ScimPage,
  type ScimPageQuery,
  type ScimStore,
  type ScimUserFilterAttribute,
  type ScimUserRecord,
  StoreUnavailableError,
} from '@jit-provision/core';
import type { PoolClient } from 'pg';
import type { Executor } from './executor';
import { USER_COLUMNS, type UserRow } from './rows';
import { compileScimFilter, SqlParams } from './scim-filter';
import {
  SCIM_USER_COLUMNS,
  type ScimUserRow,
  scimUserValues,
  scimWriteError,
  toScimUser,
  userFilterTarget,
} from './scim-rows';
import type { NameStatement } from './statement-name';

type UserPart = Pick<ScimStore, 'createUser' | 'getUser' | 'findUsers' | 'replaceUser' | 'hideUser'>;

/** The SCIM row of `$1` (user id) and `$2` (issuer) from the write in `$3`…`$8`; a hidden one shows again. */
const writeScimRow = (s: string) => `
  INSERT INTO ${s}.scim_users AS su
    (user_id, issuer, user_name, display_name, given_name, family_name, formatted_name, attributes)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
  ON CONFLICT (user_id) DO UPDATE SET
    user_name = EXCLUDED.user_name, display_name = EXCLUDED.display_name, given_name = EXCLUDED.given_name,
    family_name = EXCLUDED.family_name, formatted_name = EXCLUDED.formatted_name,
    attributes = EXCLUDED.attributes, hidden = FALSE, version = su.version + 1, last_modified = now()
  RETURNING user_name, attributes, version, created_at, last_modified`;

interface ScimPart {
  user_name: string;
  attributes: Record<string, unknown>;
  version: number;
  created_at: Date;
  last_modified: Date;
}

const joined = (user: UserRow, scim: ScimPart): ScimUserRecord =>
  toScimUser({
    ...user,
    scim_user_name: scim.user_name,
    scim_attributes: scim.attributes,
    scim_version: scim.version,
    scim_created_at: scim.created_at,
    scim_last_modified: scim.last_modified,
  });

/**
 * The row a conflicting create may adopt, locked: the issuer's row with this externalId (a first login, or a
 * hidden SCIM user), else the row of the given subject. Raises when it is bound to another identity, or
 * when only the username was taken; undefined when the conflicting row is gone (the caller tries again).
 */
async function adoptable(c: PoolClient, s: string, input: ScimNewUser): Promise<UserRow | undefined> {
  const lock = async (where: string, value: string) =>
    (
      await c.query<UserRow>(
        `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE issuer = $1 AND ${where} = $2 FOR UPDATE`,
        [input.issuer, value],
      )
    ).rows[0];
  if (input.externalId !== null) {
    const row = await lock('external_id', input.externalId);
    if (row !== undefined) {
      if (input.subject !== null && row.subject !== null && row.subject !== input.subject)
        throw new ScimConflictError('externalId');
      return row;
    }
  }
  if (input.subject !== null) {
    const row = await lock('subject', input.subject);
    if (row !== undefined) {
      if (row.external_id !== null && row.external_id !== input.externalId)
        throw new ScimConflictError('externalId');
      return row;
    }
  }
  const owner = await c.query(`SELECT 1 FROM ${s}.users WHERE username = $1`, [input.username]);
  if (owner.rows.length > 0) throw new ReservationConflictError('the username belongs to another identity');
  return undefined;
}

/**
 * Adopt `row` for SCIM: refused when a visible SCIM user holds it already; otherwise the profile is SCIM's,
 * and an unbound row given a subject is bound now.
 */
async function adopt(c: PoolClient, s: string, row: UserRow, input: ScimNewUser): Promise<UserRow> {
  const visible = await c.query(`SELECT 1 FROM ${s}.scim_users WHERE user_id = $1 AND NOT hidden`, [row.id]);
  if (visible.rows.length > 0) throw new ScimConflictError('externalId');
  const updated = await c.query<UserRow>(
    `UPDATE ${s}.users SET email = $2, name = $3,
       username = CASE WHEN subject IS NULL AND $4::text IS NOT NULL THEN $5 ELSE username END,
       subject = COALESCE(subject, $4::text),
       external_id = COALESCE(external_id, $6::text),
       updated_at = now()
     WHERE id = $1
     RETURNING ${USER_COLUMNS}`,
    [row.id, input.email, input.name, input.subject, input.username, input.externalId],
  );
  return updated.rows[0] ?? row;
}

/** One attempt of createUser in one transaction; undefined when the conflicting row vanished meanwhile. */
async function createOnce(c: PoolClient, s: string, input: ScimNewUser) {
  const inserted = await c.query<UserRow>(
    `INSERT INTO ${s}.users
       (id, issuer, subject, username, email, name, role, tenant_id, role_source, external_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)
     ON CONFLICT DO NOTHING
     RETURNING ${USER_COLUMNS}`,
    [
      randomUUID(),
      input.issuer,
      input.subject,
      input.username,
      input.email,
      input.name,
      input.role,
      input.roleSource ?? 'default',
      input.externalId,
    ],
  );
  let user = inserted.rows[0];
  const created = user !== undefined;
  if (user === undefined) {
    const found = await adoptable(c, s, input);
    if (found === undefined) return undefined;
    user = await adopt(c, s, found, input);
  }
  const scim = await c.query<ScimPart>(writeScimRow(s), [user.id, input.issuer, ...scimUserValues(input)]);
  if (created && input.emitEvent !== undefined) {
    await c.query(`INSERT INTO ${s}.outbox (user_id, identity, actor) VALUES ($1, $2::jsonb, $3)`, [
      user.id,
      JSON.stringify(input.emitEvent.identity),
      input.emitEvent.actor ?? null,
    ]);
  }
  return { record: joined(user, scim.rows[0] as ScimPart), created };
}

/**
 * Whether the statement is prepared (named): with no filter, or one comparison of a column — the lookups a
 * provider sends before every write (`userName eq`, `externalId eq`). A bounded set of statements, so a
 * client cannot fill a connection with prepared statements by varying its filters; named by a hash of the
 * text, since a value that cannot match (a non-uuid `id`) compiles to another text.
 */
const preparable = (filter: ScimPageQuery<ScimUserFilterAttribute>['filter']): boolean =>
  filter === undefined || !['and', 'or', 'not', 'some'].includes(filter.op);

/** `userName eq`, `externalId eq`, `id eq`: at most one match, found by its unique index whatever the ORDER BY. */
const uniqueLookup = (filter: ScimPageQuery<ScimUserFilterAttribute>['filter']): boolean =>
  filter?.op === 'eq' && ['userName', 'externalId', 'id'].includes(filter.attribute);

// The names of the prepared lookups by their text: a handful of texts, hashed once each, not on every call.
const PREPARED_NAMES = new Map<string, string>();
function preparedName(text: string): string {
  let name = PREPARED_NAMES.get(text);
  if (name === undefined) {
    name = `scim_users_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    // Bounded (the shapes are, but schemas multiply them): a full map starts again rather than grow.
    if (PREPARED_NAMES.size >= 512) PREPARED_NAMES.clear();
    PREPARED_NAMES.set(text, name);
  }
  return name;
}

async function findUsers(
  db: Executor,
  s: string,
  named: NameStatement,
  issuer: string,
  query: ScimPageQuery<ScimUserFilterAttribute>,
): Promise<ScimPage<ScimUserRecord>> {
  const params = new SqlParams([issuer]);
  const where =
    query.filter === undefined ? 'TRUE' : compileScimFilter(query.filter, userFilterTarget(), params);
  const from = `FROM ${s}.scim_users su JOIN ${s}.users u ON u.id = su.user_id
                WHERE su.issuer = $1 AND u.issuer = $1 AND NOT su.hidden AND ${where}`;
  const countRows = () =>
    db.rows<{ total: string }>(
      { text: `SELECT count(*) AS total ${from}`, values: params.values },
      { retry: true },
    );
  if (query.count <= 0) return { totalResults: Number((await countRows())[0]?.total ?? 0), resources: [] };
  // Other filters find their matches first (MATERIALIZED), by the index the filter can use: with the
  // ORDER BY … LIMIT in the same query the planner may walk the page index of the whole issuer instead.
  const paging = `OFFSET $${params.values.length + 1} LIMIT $${params.values.length + 2}`;
  const text = uniqueLookup(query.filter)
    ? `SELECT ${SCIM_USER_COLUMNS} ${from} ORDER BY su.created_at, su.user_id ${paging}`
    : `WITH matched AS MATERIALIZED (SELECT ${SCIM_USER_COLUMNS} ${from})
       SELECT * FROM matched ORDER BY scim_created_at, id ${paging}`;
  const name = preparable(query.filter) ? named(preparedName(text)) : {};
  const startIndex = Math.max(1, query.startIndex);
  const rows = await db.rows<ScimUserRow>(
    { ...name, text, values: [...params.values, startIndex - 1, query.count] },
    { retry: true },
  );
  // A first page that is not full holds every match, so the total is known without counting: a lookup
  // (`userName eq`, `externalId eq`) is one statement. Only a full page, or one further on, is counted.
  const total =
    startIndex === 1 && rows.length < query.count ? rows.length : Number((await countRows())[0]?.total ?? 0);
  return { totalResults: total, resources: rows.map(toScimUser) };
}

/** The SCIM user methods over `users` + `scim_users` (schema `s`, quoted). */
export function scimUserPart(db: Executor, s: string, named: NameStatement): UserPart {
  return {
    async createUser(input) {
      for (let attempt = 0; attempt < 3; attempt++) {
        let outcome: Awaited<ReturnType<typeof createOnce>>;
        try {
          outcome = await db.transaction((c) => createOnce(c, s, input));
        } catch (error) {
          throw scimWriteError(error);
        }
        if (outcome !== undefined) return outcome;
      }
      throw new StoreUnavailableError('createUser did not settle after 3 attempts');
    },

    async getUser(issuer, id) {
      const rows = await db.rows<ScimUserRow>(
        {
          text: `SELECT ${SCIM_USER_COLUMNS} FROM ${s}.scim_users su JOIN ${s}.users u ON u.id = su.user_id
                 WHERE su.user_id = $2 AND su.issuer = $1 AND NOT su.hidden`,
          values: [issuer, id],
        },
        { retry: true },
      );
      return rows[0] === undefined ? null : toScimUser(rows[0]);
    },

    findUsers: (issuer, query) => findUsers(db, s, named, issuer, query),

    async replaceUser(issuer, id, write, options) {
      try {
        return await db.transaction((c) => replaceOnce(c, s, { issuer, id, write, ...options }));
      } catch (error) {
        throw scimWriteError(error);
      }
    },

    async hideUser(issuer, id) {
      const rows = await db.rows({
        text: `UPDATE ${s}.scim_users SET hidden = TRUE, version = version + 1, last_modified = now()
               WHERE user_id = $2 AND issuer = $1 AND NOT hidden RETURNING 1`,
        values: [issuer, id],
      });
      return rows.length > 0;
    },
  };
}

type ReplaceInput = {
  issuer: string;
  id: string;
  write: Parameters<UserPart['replaceUser']>[2];
} & NonNullable<Parameters<UserPart['replaceUser']>[3]>;

/** replaceUser in its transaction: the SCIM row locked first, so `ifVersion` is checked against what is replaced. */
async function replaceOnce(c: PoolClient, s: string, input: ReplaceInput): Promise<ScimUserRecord | null> {
  const locked = await c.query<{ version: number }>(
    `SELECT version FROM ${s}.scim_users WHERE user_id = $2 AND issuer = $1 AND NOT hidden FOR UPDATE`,
    [input.issuer, input.id],
  );
  const current = locked.rows[0];
  if (current === undefined) return null;
  if (input.ifVersion !== undefined && input.ifVersion !== current.version)
    throw new ScimConflictError('version');
  const scim = await c.query<ScimPart>(
    `UPDATE ${s}.scim_users SET user_name = $2, display_name = $3, given_name = $4, family_name = $5,
       formatted_name = $6, attributes = $7::jsonb, version = version + 1, last_modified = now()
     WHERE user_id = $1
     RETURNING user_name, attributes, version, created_at, last_modified`,
    [input.id, ...scimUserValues(input.write)],
  );
  // A null externalId keeps the row's join key: a PUT that leaves it out must not unlink the person.
  const user = await c.query<UserRow>(
    `UPDATE ${s}.users SET email = $2, name = $3, external_id = COALESCE($4::text, external_id),
       updated_at = CASE WHEN email IS DISTINCT FROM $2 OR name IS DISTINCT FROM $3
         OR external_id IS DISTINCT FROM COALESCE($4::text, external_id) THEN now() ELSE updated_at END
     WHERE id = $1
     RETURNING ${USER_COLUMNS}`,
    [input.id, input.write.email, input.write.name, input.write.externalId],
  );
  const event = input.event;
  if (event !== undefined) {
    await c.query(
      `INSERT INTO ${s}.outbox (type, user_id, identity, actor, data)
       SELECT $2, id, jsonb_build_object('issuer', issuer, 'subject', COALESCE(subject, '')), $3, $4::jsonb
       FROM ${s}.users WHERE id = $1`,
      [input.id, event.type, event.actor, event.data === undefined ? null : JSON.stringify(event.data)],
    );
  }
  return joined(user.rows[0] as UserRow, scim.rows[0] as ScimPart);
}
