import { randomUUID } from 'node:crypto';
import type { OutboxStore } from '@jit-provision/core';
import { sql } from 'kysely';
import { type Context, rows, transaction } from './context';
import type { AnyKysely } from './dialect';
import { guard } from './errors';
import { OUTBOX_COLUMNS, type OutboxRow, toEvent } from './rows';

/** Write one outbox event on `conn` (inside the transaction that made the change). */
export async function insertEvent(
  ctx: Context,
  conn: AnyKysely,
  event: { type: string; userId: string; identity: unknown; actor: string | null; data: unknown },
): Promise<void> {
  await sql`INSERT INTO ${ctx.T.outbox} (id, type, user_id, identity, actor, data, available_at, created_at)
            VALUES (${randomUUID()}, ${event.type}, ${event.userId}, ${JSON.stringify(event.identity)},
                    ${event.actor}, ${event.data === null || event.data === undefined ? null : JSON.stringify(event.data)},
                    ${ctx.d.now}, ${ctx.d.now})`.execute(conn);
}

/** The claim: MySQL/MariaDB lock the due rows with `SKIP LOCKED`; SQLite and Postgres claim in one UPDATE. */
async function claim(ctx: Context, limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const { d, T } = ctx;
  const select = d.select(OUTBOX_COLUMNS);
  if (d.name === 'mysql') {
    return transaction(ctx, async (conn) => {
      const due = await rows<{ seq: number }>(
        conn,
        sql`SELECT seq FROM ${T.outbox} WHERE status = 'pending' AND available_at <= ${d.now}
            ORDER BY available_at, seq LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
      );
      if (due.length === 0) return [];
      const seqs = due.map((r) => r.seq);
      await sql`UPDATE ${T.outbox} SET attempts = attempts + 1, available_at = ${d.later(leaseMs)}
                WHERE seq IN (${sql.join(seqs)})`.execute(conn);
      return rows<OutboxRow>(
        conn,
        sql`SELECT ${select} FROM ${T.outbox} WHERE seq IN (${sql.join(seqs)}) ORDER BY seq`,
      );
    });
  }
  // SQLite runs one writer at a time, so this UPDATE is atomic across processes; on Postgres the inner
  // SELECT skips rows another claim holds.
  const skip = sql.raw(d.name === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '');
  return rows<OutboxRow>(
    ctx.db,
    sql`UPDATE ${T.outbox} SET attempts = attempts + 1, available_at = ${d.later(leaseMs)}
        WHERE seq IN (SELECT seq FROM ${T.outbox} WHERE status = 'pending' AND available_at <= ${d.now}
                      ORDER BY available_at, seq LIMIT ${limit} ${skip})
        RETURNING ${select}, seq`,
  ).then((r) => (r as Array<OutboxRow & { seq: number }>).sort((a, b) => Number(a.seq) - Number(b.seq)));
}

/**
 * The outbox: events written in the transaction of their change, claimed so that no two live claims ever
 * hold one event. Times come from the database clock.
 */
export function createOutbox(ctx: Context): OutboxStore {
  const { d, T, db } = ctx;
  return {
    claim: ({ limit, leaseMs }) =>
      guard(async () => (await claim(ctx, limit, leaseMs)).map((r) => toEvent(d, r))),

    complete: (id) =>
      guard(async () => {
        await sql`UPDATE ${T.outbox} SET status = 'done', completed_at = ${d.now}
                  WHERE id = ${id} AND status = 'pending'`.execute(db);
      }),

    fail: (id, { error, retryAt }) =>
      guard(async () => {
        if (retryAt === null)
          await sql`UPDATE ${T.outbox} SET last_error = ${error}, status = 'failed', completed_at = ${d.now}
                    WHERE id = ${id} AND status = 'pending'`.execute(db);
        else
          await sql`UPDATE ${T.outbox} SET last_error = ${error}, available_at = ${d.time(retryAt)}
                    WHERE id = ${id} AND status = 'pending'`.execute(db);
      }),

    retry: (id) =>
      guard(async () => {
        await sql`UPDATE ${T.outbox} SET status = 'pending', attempts = 0, available_at = ${d.now}, completed_at = NULL
                  WHERE id = ${id} AND status <> 'pending'`.execute(db);
        const found = await rows(db, sql`SELECT 1 AS one FROM ${T.outbox} WHERE id = ${id}`);
        return found.length > 0;
      }),

    list: (filter = {}) =>
      guard(async () => {
        const byStatus = filter.status === undefined ? sql`1 = 1` : sql`status = ${filter.status}`;
        const ids = filter.userIds;
        const byUser =
          ids === undefined
            ? sql`1 = 1`
            : ids.length === 0
              ? sql`1 = 0`
              : sql`user_id IN (${sql.join([...ids])})`;
        const found = await rows<OutboxRow>(
          db,
          sql`SELECT ${d.select(OUTBOX_COLUMNS)} FROM ${T.outbox} WHERE ${byStatus} AND ${byUser}
              ORDER BY seq LIMIT ${filter.limit ?? 100}`,
        );
        return found.map((r) => toEvent(d, r));
      }),
  };
}
