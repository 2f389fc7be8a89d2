import { createHash } from 'node:crypto';
import { StoreUnavailableError } from '@jit-provision/core';
import { type RawBuilder, sql } from 'kysely';
import type { AnyKysely, Sql, Tables } from './dialect';
import { isRetryable } from './errors';
import { USER_COLUMNS } from './rows';

/** What every part of the store shares: the app's instance, the dialect's SQL, quoted table names. */
export interface Context {
  db: AnyKysely;
  d: Sql;
  t: Tables;
  /** Quoted table names, ready to splice into `sql` templates. */
  T: Record<keyof Tables, RawBuilder<unknown>>;
  /** The users select list, built once. */
  userColumns: RawBuilder<unknown>;
}

export function createContext(db: AnyKysely, d: Sql, t: Tables): Context {
  const T = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, d.id(v)])) as Context['T'];
  return { db, d, t, T, userColumns: d.select(USER_COLUMNS) };
}

/** Rows of a statement. */
export async function rows<R>(conn: AnyKysely, query: RawBuilder<R>): Promise<R[]> {
  return (await query.execute(conn)).rows;
}

/** How many rows a statement changed (matched, on MySQL). */
export async function affected(conn: AnyKysely, query: RawBuilder<unknown>): Promise<number> {
  const result = await query.execute(conn);
  return Number(result.numAffectedRows ?? result.numChangedRows ?? 0);
}

/** `FOR UPDATE` where the engine has row locks; SQLite's `BEGIN IMMEDIATE` already holds the write lock. */
export const forUpdate = (ctx: Context) => sql.raw(ctx.d.name === 'sqlite' ? '' : ' FOR UPDATE');

/** `WHERE` on the identity key: the hashed key on MySQL (see the schema), the two columns elsewhere. */
export function identityIs(ctx: Context, issuer: string, subject: string): RawBuilder<unknown> {
  if (ctx.d.name === 'mysql')
    return sql`identity_key = UNHEX(SHA2(CONCAT(${issuer}, CHAR(0), ${subject}), 256)) AND issuer = ${issuer} AND subject = ${subject}`;
  return sql`issuer = ${issuer} AND subject = ${subject}`;
}

/** `WHERE` on (issuer, external_id): the hashed key first on MySQL (see migration 0002). */
export function externalIdIs(ctx: Context, issuer: string, externalId: string): RawBuilder<unknown> {
  if (ctx.d.name === 'mysql')
    return sql`external_id_key = UNHEX(SHA2(CONCAT(${issuer}, CHAR(0), ${externalId}), 256)) AND issuer = ${issuer} AND external_id = ${externalId}`;
  return sql`issuer = ${issuer} AND external_id = ${externalId}`;
}

/** `WHERE` on the issuer of a SCIM table aliased `alias`: its hashed issuer key first on MySQL (migration 0003). */
export function issuerIs(ctx: Context, alias: string, issuer: string): RawBuilder<unknown> {
  const col = sql.raw(`${alias}.issuer`);
  if (ctx.d.name === 'mysql')
    return sql`${sql.raw(`${alias}.issuer_key`)} = UNHEX(SHA2(${issuer}, 256)) AND ${col} = ${issuer}`;
  return sql`${col} = ${issuer}`;
}

/** The clock of SCIM times, to the millisecond: `meta` answers what filters and paging compare. */
export function scimNow(ctx: Context): RawBuilder<unknown> {
  if (ctx.d.name === 'mysql') return sql.raw('UTC_TIMESTAMP(3)');
  if (ctx.d.name === 'postgres') return sql.raw(`date_trunc('milliseconds', now())`);
  return ctx.d.now;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Run `fn` again when the engine aborted it for a lock conflict (a deadlock victim, a busy SQLite file): for
 * single statements outside a transaction, which the engine rolled back whole.
 */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isRetryable(error) || attempt >= 5) throw error;
      await sleep(5 * attempt + Math.random() * 20);
    }
  }
}

/**
 * Run `fn` in a transaction on one connection: `BEGIN IMMEDIATE` on SQLite (the write lock up front, so a
 * read-then-write never fails half way), and, with `lock`, a lock on that name held until the commit
 * (Postgres: a transaction advisory lock; MySQL: `GET_LOCK`, released after the commit). A deadlock or
 * busy database runs the whole transaction again, a few times.
 */
export async function transaction<T>(
  ctx: Context,
  fn: (conn: AnyKysely) => Promise<T>,
  lock?: string,
): Promise<T> {
  const name = lock === undefined ? undefined : `jp:${createHash('sha1').update(lock).digest('hex')}`;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.db.connection().execute(async (conn) => {
        if (name !== undefined && ctx.d.name === 'mysql') {
          const got = await rows<{ got: number | null }>(conn, sql`SELECT GET_LOCK(${name}, 10) AS got`);
          if (Number(got[0]?.got) !== 1) throw new StoreUnavailableError(`lock ${lock} not acquired`);
        }
        try {
          const begin = { mysql: 'START TRANSACTION', sqlite: 'BEGIN IMMEDIATE', postgres: 'BEGIN' }[
            ctx.d.name
          ];
          await sql.raw(begin).execute(conn);
          try {
            if (name !== undefined && ctx.d.name === 'postgres')
              await sql`SELECT pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(conn);
            const result = await fn(conn);
            await sql.raw('COMMIT').execute(conn);
            return result;
          } catch (error) {
            await sql
              .raw('ROLLBACK')
              .execute(conn)
              .catch(() => {});
            throw error;
          }
        } finally {
          if (name !== undefined && ctx.d.name === 'mysql')
            await sql`DO RELEASE_LOCK(${name})`.execute(conn).catch(() => {});
        }
      });
    } catch (error) {
      if (!isRetryable(error) || attempt >= 5) throw error;
      await sleep(5 * attempt + Math.random() * 20);
    }
  }
}
