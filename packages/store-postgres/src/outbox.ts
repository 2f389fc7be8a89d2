import type {
  Identity,
  NewUser,
  OutboxEvent,
  OutboxStatus,
  OutboxStore,
  UserChangeOptions,
  UserEventType,
} from '@jit-provision/core';
import type { Executor } from './executor';
import { guard } from './pg-errors';
import { quoteSchema } from './schema-name';

interface OutboxRow {
  id: string;
  type: UserEventType;
  user_id: string;
  identity: Identity;
  actor: string | null;
  data: Record<string, unknown> | null;
  status: OutboxStatus;
  attempts: number;
  last_error: string | null;
  available_at: Date;
  created_at: Date;
  completed_at: Date | null;
}

const COLUMNS =
  'id, type, user_id, identity, actor, data, status, attempts, last_error, available_at, created_at, completed_at';

const toEvent = (row: OutboxRow): OutboxEvent => ({
  id: row.id,
  type: row.type,
  userId: row.user_id,
  identity: row.identity,
  actor: row.actor,
  data: row.data,
  status: row.status,
  attempts: row.attempts,
  lastError: row.last_error,
  availableAt: row.available_at,
  createdAt: row.created_at,
  completedAt: row.completed_at,
});

/**
 * The `WITH` clause that writes the outbox event of a user row created by the same statement: `source` is
 * a CTE returning the inserted row's `id` (empty when nothing was inserted, so no event either). Takes
 * its identity JSON as parameter `$n` and its actor (null for a login) as `$n+1`.
 */
export function outboxInsertCte(schema: string, source: string, identityParam: number): string {
  return `event AS (
    INSERT INTO ${quoteSchema(schema)}.outbox (user_id, identity, actor)
    SELECT id, $${identityParam}::jsonb, $${identityParam + 1}::text FROM ${source}
  )`;
}

/**
 * The `WITH` clause that writes a lifecycle event for the row(s) `source` returns (none when the change
 * wrote nothing, so an idempotent no-op leaves no event). Parameters `$n`…`$n+2`: type (null: no event at
 * all), actor, data JSON; `data` may name an SQL expression to use instead of `$n+2`.
 */
export function userEventCte(schema: string, source: string, first: number, data?: string): string {
  return `event AS (
    INSERT INTO ${quoteSchema(schema)}.outbox (type, user_id, identity, actor, data)
    SELECT $${first}::text, id, jsonb_build_object('issuer', issuer, 'subject', COALESCE(subject, '')), $${first + 1}::text,
           ${data ?? `$${first + 2}::jsonb`}
    FROM ${source} WHERE $${first}::text IS NOT NULL
  )`;
}

/** Parameters of {@link userEventCte}: all null when the caller asked for no event. */
export const userEventValues = (options: UserChangeOptions | undefined): Array<string | null> => {
  const event = options?.event;
  if (event === undefined) return [null, null, null];
  return [event.type, event.actor, event.data === undefined ? null : JSON.stringify(event.data)];
};

/**
 * The parameters of {@link outboxInsertCte}: the identity as JSON and the actor; null when the caller did not
 * ask for an event.
 */
export const eventIdentity = (input: NewUser): [string, string | null] | null =>
  input.emitEvent === undefined
    ? null
    : [JSON.stringify(input.emitEvent.identity), input.emitEvent.actor ?? null];

/**
 * The Postgres outbox: rows written in the same statement as their user (see `outboxInsertCte`), claimed
 * with `FOR UPDATE SKIP LOCKED` so any number of dispatchers, in any number of processes, never hold the
 * same event at once. Times come from the database clock.
 */
/**
 * The claim: the `$1` oldest due events, skipping those another dispatcher holds, leased for `$2` ms. Its
 * order is the order of the partial index `outbox_claim_idx` (migration 6), so it reads `$1` entries and
 * sorts nothing, however many rows share one `available_at` (every event of one transaction does).
 */
export function claimStatement(schema: string): string {
  const s = quoteSchema(schema);
  return `UPDATE ${s}.outbox o
          SET attempts = o.attempts + 1,
              available_at = now() + $2::double precision * interval '1 millisecond'
          WHERE o.id IN (
            SELECT id FROM ${s}.outbox
            WHERE status = 'pending' AND available_at <= now()
            ORDER BY available_at, created_at
            LIMIT $1
            FOR UPDATE SKIP LOCKED
          )
          RETURNING ${COLUMNS.split(', ')
            .map((c) => `o.${c}`)
            .join(', ')}`;
}

export function createPostgresOutboxStore(db: Executor, schema: string): OutboxStore {
  const s = quoteSchema(schema);
  const claimText = claimStatement(schema);
  const outbox: OutboxStore = {
    async claim({ limit, leaseMs }) {
      const rows = await db.rows<OutboxRow>({ text: claimText, values: [limit, leaseMs] });
      return rows.map(toEvent).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    },

    async complete(id) {
      await db.rows({
        text: `UPDATE ${s}.outbox SET status = 'done', completed_at = now() WHERE id = $1 AND status = 'pending'`,
        values: [id],
      });
    },

    async fail(id, { error, retryAt }) {
      await db.rows({
        text: `UPDATE ${s}.outbox SET
                 last_error = $2,
                 status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
                 available_at = COALESCE($3::timestamptz, available_at),
                 completed_at = CASE WHEN $3::timestamptz IS NULL THEN now() ELSE NULL END
               WHERE id = $1 AND status = 'pending'`,
        values: [id, error, retryAt],
      });
    },

    async retry(id) {
      // One statement: the update (when not pending) and whether the event exists at all.
      const rows = await db.rows<{ found: boolean }>({
        text: `WITH target AS (SELECT id FROM ${s}.outbox WHERE id = $1),
               changed AS (
                 UPDATE ${s}.outbox SET status = 'pending', attempts = 0, available_at = now(), completed_at = NULL
                 WHERE id = $1 AND status <> 'pending'
                 RETURNING id
               )
               SELECT EXISTS (SELECT 1 FROM target) AS found`,
        values: [id],
      });
      return rows[0]?.found === true;
    },

    async list(filter = {}) {
      const rows = await db.rows<OutboxRow>(
        {
          text: `SELECT ${COLUMNS} FROM ${s}.outbox
                 WHERE ($1::text IS NULL OR status = $1) AND ($3::text[] IS NULL OR user_id = ANY($3::text[]))
                 ORDER BY created_at, id
                 LIMIT $2`,
          values: [filter.status ?? null, filter.limit ?? 100, filter.userIds ?? null],
        },
        { retry: true },
      );
      return rows.map(toEvent);
    },
  };
  return {
    claim: (options) => guard(() => outbox.claim(options)),
    complete: (id) => guard(() => outbox.complete(id)),
    fail: (id, outcome) => guard(() => outbox.fail(id, outcome)),
    retry: (id) => guard(() => (outbox.retry as (id: string) => Promise<boolean>)(id)),
    list: (filter) => guard(() => outbox.list(filter)),
  };
}
