import { randomBytes } from 'node:crypto';
import { createProvisioner, type Provisioner } from '@jit-provision/core';
import pg from 'pg';
import { createPostgresStore } from '../index';
import { type RunningChild, runTs } from './child-process';

/** What a change variant gets to make its change with. */
export interface ChangeContext {
  /** A plain pool: a connection of "another process", or of someone typing SQL. */
  pool: pg.Pool;
  schema: string;
  userId: string;
  /** The fleet user's identity (a fresh issuer per run). */
  issuer: string;
  subject: string;
  /** A provisioner in the driving process (a fifth instance), for changes through the API. */
  provisioner: Provisioner;
}

/**
 * One way of changing the user. `expect(i)` is what every process must then observe (user fields, or
 * `{ error: code }` for a refusal); `apply` makes change number `i`. Add a variant to extend the fleet test
 * (e.g. a disable, expecting `{ error: 'user_disabled' }`).
 */
export interface ChangeVariant {
  name: string;
  expect(i: number): Record<string, unknown>;
  apply(context: ChangeContext, i: number): Promise<void>;
  /** Set-up before the first change (e.g. a SCIM server in the driving process), kept out of the latencies. */
  prepare?(context: ChangeContext): Promise<void>;
}

export const ROLE_CHANGES: readonly ChangeVariant[] = [
  {
    name: 'raw SQL UPDATE',
    expect: (i) => ({ role: `sql-${i}` }),
    async apply({ pool, schema, userId }, i) {
      await pool.query(`UPDATE "${schema}".users SET role = $2 WHERE id = $1`, [userId, `sql-${i}`]);
    },
  },
  {
    name: 'provisioner.setRole',
    expect: (i) => ({ role: `api-${i}` }),
    async apply({ provisioner, userId }, i) {
      await provisioner.setRole(userId, `api-${i}`);
    },
  },
];

/**
 * Disable and enable, through the API and by hand in SQL, in a cycle that always starts from the state the
 * previous change left (active → disabled → active…): every process must refuse a disabled user, and serve
 * a re-enabled one with its new role, within the bound.
 */
export const LIFECYCLE_CHANGES: readonly ChangeVariant[] = [
  {
    name: 'provisioner.disable',
    expect: () => ({ error: 'user_disabled' }),
    async apply({ provisioner, userId }) {
      await provisioner.disable(userId);
    },
  },
  {
    name: 'raw SQL enable (and role)',
    expect: (i) => ({ status: 'active', role: `sql-${i}` }),
    async apply({ pool, schema, userId }, i) {
      await pool.query(
        `UPDATE "${schema}".users SET status = 'active', disabled_at = NULL, role = $2 WHERE id = $1`,
        [userId, `sql-${i}`],
      );
    },
  },
  {
    name: 'raw SQL disable',
    expect: () => ({ error: 'user_disabled' }),
    async apply({ pool, schema, userId }) {
      await pool.query(
        `UPDATE "${schema}".users SET status = 'disabled', disabled_at = now() WHERE id = $1`,
        [userId],
      );
    },
  },
  {
    name: 'provisioner.enable (and setRole)',
    expect: (i) => ({ status: 'active', role: `api-${i}` }),
    async apply({ provisioner, userId }, i) {
      await provisioner.enable(userId);
      await provisioner.setRole(userId, `api-${i}`);
    },
  },
];

export interface FleetOptions {
  url: string;
  schema: string;
  processes: number;
  changes: number;
  variants: readonly ChangeVariant[];
  /** Longest any process may take to observe one change: a hang detector, far below the cache TTL. */
  deadlineMs: number;
}

export interface FleetResult {
  /** Per variant: ms from just before the change was sent to each process observing it (one per process). */
  latencies: Record<string, number[]>;
  /** How each observation was served (`fast`: a store read after the cache entry was dropped). */
  paths: Record<string, number>;
}

const clock = () => performance.timeOrigin + performance.now();

/**
 * Run `processes` app processes on one database, each with the user cached, and make `changes` changes
 * (cycling through `variants`), each starting only once every process serves the user from its cache. Every
 * process must observe every change within `deadlineMs`, or this throws.
 */
export async function runInvalidationFleet(options: FleetOptions): Promise<FleetResult> {
  const issuer = `https://fleet-${randomBytes(4).toString('hex')}.test`;
  const subject = 'fleet-user';
  const pool = new pg.Pool({ connectionString: options.url, max: 2 });
  pool.on('error', () => {});
  const store = createPostgresStore({ connectionString: options.url, schema: options.schema, listen: false });
  const provisioner = createProvisioner({ store, userCache: false });
  const user = await provisioner.preProvision({ issuer, subject });
  const children: RunningChild[] = [];
  try {
    for (let p = 0; p < options.processes; p++) {
      children.push(
        runTs('./invalidation-child.ts', [], {
          DATABASE_URL: options.url,
          FLEET_SCHEMA: options.schema,
          FLEET_ISSUER: issuer,
          FLEET_SUBJECT: subject,
        }),
      );
    }
    await Promise.all(children.map((child) => child.line((l) => l === 'ready')));
    const latencies: Record<string, number[]> = {};
    const paths: Record<string, number> = {};
    const context: ChangeContext = {
      pool,
      schema: options.schema,
      userId: user.id,
      issuer,
      subject,
      provisioner,
    };
    for (const variant of options.variants) await variant.prepare?.(context);
    const replyOf = (child: RunningChild, i: number, key: string) =>
      child
        .line(
          (l) => l.startsWith('{') && (JSON.parse(l) as { i: number }).i === i && l.includes(`"${key}"`),
          options.deadlineMs,
        )
        .then((l) => JSON.parse(l) as { seenAt?: number; path?: string });
    for (let i = 0; i < options.changes; i++) {
      const variant = options.variants[i % options.variants.length] as ChangeVariant;
      for (const child of children) child.send(JSON.stringify({ op: 'watch', i, expect: variant.expect(i) }));
      await Promise.all(children.map((child) => replyOf(child, i, 'watching')));
      const sentAt = clock();
      await variant.apply(context, i);
      const seen = await Promise.all(children.map((child) => replyOf(child, i, 'seenAt')));
      for (const s of seen) {
        const sample = latencies[variant.name] ?? [];
        sample.push((s.seenAt as number) - sentAt);
        latencies[variant.name] = sample;
        paths[s.path ?? 'error'] = (paths[s.path ?? 'error'] ?? 0) + 1;
      }
    }
    for (const child of children) child.send(JSON.stringify({ op: 'exit' }));
    const exits = await Promise.all(children.map((child) => child.exited));
    const failed = exits.filter((e) => e.code !== 0);
    if (failed.length > 0) throw new Error(`fleet process failed: ${failed.map((e) => e.stderr).join('\n')}`);
    return { latencies, paths };
  } finally {
    await Promise.all(children.map((child) => child.kill('SIGKILL')));
    await store.close();
    await pool.end();
  }
}
