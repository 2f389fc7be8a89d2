import { randomBytes } from 'node:crypto';
import {
  createProvisioner,
  type Identity,
  type Provisioner,
  type UserChangeStatus,
} from '@jit-provision/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changesChannel, createPostgresStore, type ListenOptions } from './index';
import {
  createTestDatabase,
  DATABASE_URL,
  PGLITE_SKIP_REASON,
  type TestDatabase,
} from './test-support/database';
import { LIFECYCLE_CHANGES, ROLE_CHANGES, runInvalidationFleet } from './test-support/invalidation-fleet';
import { createOutageProxy } from './test-support/outage-proxy';
import { until } from './test-support/until';

const PROCESSES = 4;
const CHANGES = 100;

describe.skipIf(DATABASE_URL === undefined)(
  `cross-instance invalidation on Postgres (skipped under PGlite: ${PGLITE_SKIP_REASON})`,
  () => {
    let db: TestDatabase;
    const opened: Array<{ close(): Promise<void> }> = [];
    beforeAll(async () => {
      db = await createTestDatabase('changes');
    });
    afterAll(async () => {
      for (const item of opened.reverse()) await item.close();
      await db?.close();
    });

    const identity = (label: string): Identity => ({
      issuer: `https://changes-${randomBytes(4).toString('hex')}.test`,
      subject: label,
    });
    const appName = () => `jitp_listen_${randomBytes(5).toString('hex')}`;
    const withAppName = (url: string, name: string) => {
      const u = new URL(url);
      u.searchParams.set('application_name', name);
      return u.toString();
    };

    /** A store and a provisioner (cache on), closed after the file; `statuses` records the feed's reports. */
    async function instance(options: { listen?: ListenOptions | false } = {}) {
      const store = createPostgresStore({
        connectionString: db.url,
        schema: db.schema,
        poolConfig: { max: 3 },
        ...options,
      });
      const provisioner = createProvisioner({ store, logger: { warn: () => {}, error: () => {} } });
      opened.push(store, provisioner);
      const statuses: UserChangeStatus[] = [];
      await store.changes?.subscribe(() => {}, { onStatus: (s) => statuses.push(s) });
      return { store, provisioner, statuses };
    }
    const cached = async (provisioner: Provisioner, who: Identity) =>
      until(async () => (await provisioner.ensureUserExists(who)).path === 'cache');
    const setRoleBySql = (userId: string, role: string) =>
      db.pool.query(`UPDATE "${db.schema}".users SET role = $2 WHERE id = $1`, [userId, role]);

    it('a role changed by hand-written SQL on another connection drops the cached user: the next store read sees it', async () => {
      const { provisioner } = await instance();
      const { provisioner: deaf } = await instance({ listen: false });
      const who = identity('by-hand');
      const { user } = await provisioner.ensureUserExists(who);
      await cached(provisioner, who);
      await cached(deaf, who);

      await setRoleBySql(user.id, 'admin');
      const seen: string[] = [];
      await until(async () => {
        const result = await provisioner.ensureUserExists(who);
        seen.push(`${result.path}:${result.user.role}`);
        return result.user.role === 'admin';
      });
      // The old role until the notification arrived (from the cache, unless a heartbeat on a loaded machine
      // was late and bypassed it), then a store read with the new role.
      expect(seen.at(-1)).toBe('fast:admin');
      expect(seen.slice(0, -1).every((s) => s.endsWith(':user'))).toBe(true);
      expect(await provisioner.ensureUserExists(who)).toMatchObject({
        path: 'cache',
        user: { role: 'admin' },
      });
      // Without the feed the old role is served on: the TTL (30 s) is all that would end it.
      expect(await deaf.ensureUserExists(who)).toMatchObject({ path: 'cache', user: { role: 'user' } });
    });

    it('the trigger notifies every real change (UPDATE, DELETE) with the key before it, not an updated_at touch; an oversized key becomes a resync', async () => {
      const { store, statuses } = await instance();
      const listener = new pg.Client({ connectionString: db.url });
      listener.on('error', () => {});
      await listener.connect();
      opened.push({ close: () => listener.end() });
      const payloads: string[] = [];
      listener.on('notification', (m) => payloads.push(m.payload ?? ''));
      await listener.query(`LISTEN ${changesChannel(db.schema)}`);
      const who = identity('trigger');
      const { user } = await store.upsert({ ...who, username: `oidc:t:${who.subject}`, role: 'user' });

      await db.pool.query(`UPDATE "${db.schema}".users SET updated_at = now() WHERE id = $1`, [user.id]);
      await db.pool.query(`UPDATE "${db.schema}".users SET role = role WHERE id = $1`, [user.id]);
      await setRoleBySql(user.id, 'auditor');
      await until(() => payloads.length >= 1);
      // Notifications arrive in commit order: the no-op updates before it sent nothing.
      expect(payloads.map((p) => JSON.parse(p))).toEqual([{ id: user.id, ...who }]);

      await db.pool.query(`UPDATE "${db.schema}".users SET subject = 'renamed' WHERE id = $1`, [user.id]);
      await db.pool.query(`DELETE FROM "${db.schema}".users WHERE id = $1`, [user.id]);
      await until(() => payloads.length >= 3);
      expect(payloads.slice(1).map((p) => JSON.parse(p))).toEqual([
        { id: user.id, ...who },
        { id: user.id, issuer: who.issuer, subject: 'renamed' },
      ]);

      // 2,048 four-byte characters: the key alone passes NOTIFY's 8,000-byte limit.
      const huge = { issuer: '𝄞'.repeat(2048), subject: 'huge' };
      const big = await store.upsert({ ...huge, username: 'oidc:t:huge', role: 'user' });
      await until(() => statuses.includes('up'));
      const ups = statuses.filter((s) => s === 'up').length;
      await setRoleBySql(big.user.id, 'admin');
      await until(() => payloads.length >= 4);
      expect(payloads[3]).toBe('{"resync":true}');
      await until(() => statuses.filter((s) => s === 'up').length > ups);
    });

    it("the listener's backend terminated: reported down, reconnects with the cache cleared, and delivers changes again", async () => {
      const name = appName();
      const { provisioner, statuses } = await instance({
        listen: { connectionString: withAppName(db.url, name) },
      });
      const who = identity('terminated');
      const { user } = await provisioner.ensureUserExists(who);
      await cached(provisioner, who);

      const killed = await db.pool.query(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [name],
      );
      expect(killed.rows).toEqual([{ ok: true }]);
      await until(() => statuses.lastIndexOf('down') >= 0 && statuses.at(-1) === 'up');
      await cached(provisioner, who);
      await setRoleBySql(user.id, 'admin');
      await until(async () => (await provisioner.ensureUserExists(who)).user.role === 'admin');
    });

    it('while the listener cannot connect, the cache is bypassed: a change made during the outage is seen by the next request', async () => {
      const proxy = await createOutageProxy(new URL(db.url));
      opened.push(proxy);
      const { provisioner, statuses } = await instance({ listen: { connectionString: proxy.url } });
      const who = identity('outage');
      const { user } = await provisioner.ensureUserExists(who);
      await cached(provisioner, who);

      proxy.set('refuse');
      await until(() => statuses.at(-1) === 'down');
      await setRoleBySql(user.id, 'admin'); // no one can hear this one
      expect(await provisioner.ensureUserExists(who)).toMatchObject({
        path: 'fast',
        user: { role: 'admin' },
      });
      expect(await provisioner.ensureUserExists(who)).toMatchObject({ path: 'fast' });

      proxy.set('up');
      await until(() => statuses.at(-1) === 'up');
      await cached(provisioner, who);
    });

    it('a listener that cannot connect at start-up: createProvisioner still returns, requests read the store until it is up', async () => {
      const proxy = await createOutageProxy(new URL(db.url));
      opened.push(proxy);
      proxy.set('refuse');
      const { provisioner, statuses } = await instance({
        listen: { connectionString: proxy.url, reconnect: { minMs: 20, maxMs: 100 } },
      });
      expect(statuses).toEqual(['down']);
      const who = identity('late-listener');
      await provisioner.ensureUserExists(who);
      expect(await provisioner.ensureUserExists(who)).toMatchObject({ path: 'fast' });
      expect(await provisioner.ensureUserExists(who)).toMatchObject({ path: 'fast' });

      proxy.set('up');
      await until(() => statuses.at(-1) === 'up');
      await cached(provisioner, who);
    });

    it('a listener connection that goes silent is caught by the heartbeat, and the cache is bypassed from then on', async () => {
      const proxy = await createOutageProxy(new URL(db.url));
      opened.push(proxy);
      const { provisioner, statuses } = await instance({
        listen: { connectionString: proxy.url, heartbeatMs: 200 },
      });
      const who = identity('silent');
      const { user } = await provisioner.ensureUserExists(who);
      await cached(provisioner, who);

      proxy.freeze(); // no socket closes: only the heartbeat can tell
      await setRoleBySql(user.id, 'admin');
      await until(() => statuses.at(-1) === 'down');
      expect(await provisioner.ensureUserExists(who)).toMatchObject({
        path: 'fast',
        user: { role: 'admin' },
      });
    });

    it('close() of the provisioner and the store ends the listener connection', async () => {
      const name = appName();
      const { store, provisioner, statuses } = await instance({
        listen: { connectionString: withAppName(db.url, name) },
      });
      await until(() => statuses.at(-1) === 'up');
      const listening = () =>
        db.pool
          .query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [name])
          .then((r) => (r.rows[0] as { n: number }).n);
      expect(await listening()).toBe(1);
      await provisioner.close();
      await store.close();
      await until(async () => (await listening()) === 0);
    });

    it(`${PROCESSES} processes with the user cached: each of ${CHANGES} changes (raw SQL and setRole) is seen by every process`, async () => {
      const { latencies, paths } = await runInvalidationFleet({
        url: db.url,
        schema: db.schema,
        processes: PROCESSES,
        changes: CHANGES,
        variants: ROLE_CHANGES,
        // A hang detector: the children's cache TTL is 10 minutes, so only the feed gets them there in time.
        deadlineMs: 15_000,
      });
      for (const variant of ROLE_CHANGES) {
        expect(latencies[variant.name]).toHaveLength((PROCESSES * CHANGES) / ROLE_CHANGES.length);
      }
      // Every observation was a fresh read after the entry was dropped.
      expect(paths).toEqual({ fast: PROCESSES * CHANGES });
      const all = Object.values(latencies)
        .flat()
        .sort((a, b) => a - b);
      const p = (q: number) => all[Math.min(all.length - 1, Math.ceil(q * all.length) - 1)]?.toFixed(1);
      console.info(
        `invalidation latency over ${all.length} observations: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`,
      );
    }, 120_000);

    it(`${PROCESSES} processes with the user cached: each of ${CHANGES} disables and enables (API and raw SQL) is seen by every process`, async () => {
      const { latencies, paths } = await runInvalidationFleet({
        url: db.url,
        schema: db.schema,
        processes: PROCESSES,
        changes: CHANGES,
        variants: LIFECYCLE_CHANGES,
        deadlineMs: 15_000,
      });
      for (const variant of LIFECYCLE_CHANGES) {
        expect(latencies[variant.name]).toHaveLength((PROCESSES * CHANGES) / LIFECYCLE_CHANGES.length);
      }
      // Half the changes disable (refused: no path), half enable (a fresh store read).
      expect(paths).toEqual({ error: (PROCESSES * CHANGES) / 2, fast: (PROCESSES * CHANGES) / 2 });
    }, 120_000);
  },
);
