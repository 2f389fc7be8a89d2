import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProvisioner, type Provisioner } from '@jit-provision/core';
import { authenticateRequest } from '@jit-provision/core/adapter';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, migrate } from './index';
import { createOutageProxy } from './test-support/outage-proxy';

const DATABASE_URL = process.env['DATABASE_URL'];
const AUD = 'outage-api';
/** How long recovery may take before the test gives up: a hang detector, not a performance bound. */
const RECOVERY_DEADLINE_MS = 15_000;
const noop = () => {};

/** A real HTTP server doing what every adapter does: authenticateRequest, then answer. */
async function serve(provisioner: Provisioner): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void authenticateRequest(provisioner, {
      headers: req.headers,
      path: req.url ?? '/',
      method: req.method ?? 'GET',
    }).then((outcome) => {
      if (outcome.ok) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ user: outcome.auth?.user ?? null }));
      } else {
        res.writeHead(outcome.response.status, outcome.response.headers);
        res.end(JSON.stringify(outcome.response.body));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/me`, server };
}

describe.skipIf(DATABASE_URL === undefined)(
  'Postgres outage during a burst of logins (real Postgres, TCP proxy)',
  () => {
    const schema = `outage_${randomBytes(4).toString('hex')}`;
    let idp: DevIssuer;
    let proxy: Awaited<ReturnType<typeof createOutageProxy>>;
    let direct: pg.Pool;
    let viaProxy: pg.Pool;
    const servers: Server[] = [];

    beforeAll(async () => {
      idp = await createDevIssuer();
      direct = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
      await migrate(direct, { schema });
      proxy = await createOutageProxy(new URL(DATABASE_URL as string));
      viaProxy = new pg.Pool({
        connectionString: proxy.url,
        max: 10,
        connectionTimeoutMillis: 500,
        query_timeout: 1_000,
      });
      viaProxy.on('error', () => {});
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      await viaProxy?.end().catch(() => {});
      await proxy?.close();
      await direct?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await direct?.end();
      await idp?.close();
    });

    async function app(onProvisioningError: 'reject' | 'continue') {
      const provisioner = createProvisioner({
        store: createPostgresStore({ pool: viaProxy, schema }),
        issuers: [{ issuer: idp.issuer, audience: AUD }],
        onProvisioningError,
        userCache: false,
        tokenCache: false,
        logger: { warn: () => {}, error: () => {} },
        reservation: { leaseMs: 1_000, waitMs: 1_500 },
        // App-owned creation, so reservations are in play and must not stay stuck.
        createUser: async () => `app-${randomBytes(8).toString('hex')}`,
      });
      const { url, server } = await serve(provisioner);
      servers.push(server);
      return url;
    }

    async function login(url: string, token: string) {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        // A hang detector, not a performance bound: the outage lasts until every answer is in.
        signal: AbortSignal.timeout(RECOVERY_DEADLINE_MS),
      });
      const body = (await response.json()) as { user?: { subject: string } | null; error?: string };
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body,
      };
    }

    const usersOf = async (subjects: string[]) =>
      (
        await direct.query<{ subject: string; n: string }>(
          `SELECT subject, count(*) AS n FROM "${schema}".users WHERE issuer = $1 AND subject = ANY($2) GROUP BY subject`,
          [idp.issuer, subjects],
        )
      ).rows;

    for (const [mode, down] of [
      ['reject', 'refuse'],
      ['continue', 'blackhole'],
    ] as const) {
      it(`${mode} mode, database ${down === 'refuse' ? 'refusing connections' : 'not answering'}: bounded answers, then one user per identity and no stuck reservation`, async () => {
        proxy.set('up');
        const url = await app(mode);
        const subjects = Array.from(
          { length: 20 },
          (_, i) => `${mode}-${i}-${randomBytes(3).toString('hex')}`,
        );
        const tokens = await Promise.all(subjects.map((sub) => idp.mint({ sub }, { audience: AUD })));

        // The burst: three logins per identity; the database goes away while they are in flight.
        const logins = tokens.flatMap((token) => [login(url, token), login(url, token), login(url, token)]);
        // Down as soon as the first login answered: the others are queued or in flight by then.
        await Promise.race(logins.map((l) => l.then(noop, noop)));
        proxy.set(down);
        const during = await Promise.all(logins);
        // And a burst entirely inside the outage.
        const outage = await Promise.all(tokens.map((token) => login(url, token)));

        // Bounded: every request was answered while the database was still down (it comes back only
        // below), so none waited for the recovery; the pool's connect and query timeouts ended them.
        expect(proxy.state).toBe(down);
        for (const r of [...during, ...outage]) {
          if (mode === 'reject') {
            expect([200, 503]).toContain(r.status);
            if (r.status === 503) {
              expect(r.body.error).toBe('provisioning_unavailable');
              expect(Number(r.retryAfter)).toBeGreaterThan(0);
            }
          } else {
            expect(r.status).toBe(200);
          }
        }
        if (mode === 'reject') expect(outage.every((r) => r.status === 503)).toBe(true);
        else expect(outage.every((r) => r.body.user === null)).toBe(true);

        // Recovery: every identity logs in again (reservations orphaned by the outage expire within the lease).
        proxy.set('up');
        // A client retries after a pause; on a loaded machine the first retries may still queue behind the
        // pool or meet a reservation orphaned by the outage, so it keeps trying until a deadline, not N times.
        const loginUntilServed = async (token: string) => {
          const deadline = Date.now() + RECOVERY_DEADLINE_MS;
          for (;;) {
            const r = await login(url, token);
            if ((r.status === 200 && r.body.user) || Date.now() > deadline) return r;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        };
        const after = await Promise.all(tokens.map(loginUntilServed));
        for (const [i, r] of after.entries()) {
          expect(r.status).toBe(200);
          expect(r.body.user?.subject).toBe(subjects[i]);
        }
        const rows = await usersOf(subjects);
        expect(rows).toHaveLength(subjects.length);
        expect(rows.every((row) => row.n === '1')).toBe(true);
        const stuck = await direct.query(
          `SELECT 1 FROM "${schema}".reservations WHERE issuer = $1 AND subject = ANY($2)`,
          [idp.issuer, subjects],
        );
        expect(stuck.rowCount).toBe(0);
      });
    }
  },
);
