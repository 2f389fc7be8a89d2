import { MAX_BODY_DEPTH, type Route } from '@jit-provision/core/adapter';
import { describe, expect, it } from 'vitest';

/** What a mounted route table answered; `body` parsed as JSON (undefined when empty). */
export interface RouteTestResponse {
  status: number;
  body: unknown;
}

/** Options of {@link runRouteTableSuite}. */
export interface RouteTableSuiteOptions {
  /** Shown in the suite title. */
  name: string;
  /**
   * Mount `routes` with the adapter's generic mounter under `/t` and return a request through the real
   * framework (`body` is sent as is, with `content-type: application/json`).
   */
  mount(
    routes: readonly Route[],
  ): (method: 'GET' | 'POST', path: string, body?: string) => Promise<RouteTestResponse>;
}

/** `{"a":{"a":…}}` nested `depth` deep, as text: building it as an object would overflow JSON.stringify. */
export const deepJson = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/**
 * The failure paths every adapter's route mounter must share: a handler that throws or answers a body that
 * cannot be serialised gets the one error shape's 500 and the process stays up (Express used to exit on an
 * unhandled rejection); a body nested deeper than `MAX_BODY_DEPTH` gets 400 `invalid_request` and never
 * reaches the handler.
 *
 * @example
 * ```ts
 * runRouteTableSuite({
 *   name: 'hono',
 *   mount: (routes) => {
 *     const app = new Hono().route('/t', subApp(routes));
 *     return async (method, path, body) => {
 *       const res = await app.request(path, { method, body, headers: { 'content-type': 'application/json' } });
 *       const text = await res.text();
 *       return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
 *     };
 *   },
 * });
 * ```
 */
export function runRouteTableSuite(options: RouteTableSuiteOptions): void {
  describe(`route table: ${options.name}`, () => {
    let calls = 0;
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const routes: Route[] = [
      { method: 'GET', path: '/ok', handler: async () => ({ status: 200, body: { ok: true } }) },
      {
        method: 'GET',
        path: '/throws',
        handler: async () => {
          throw new Error('handler bug with a secret-ish detail');
        },
      },
      { method: 'GET', path: '/bigint', handler: async () => ({ status: 200, body: { n: 1n } }) },
      { method: 'GET', path: '/cycle', handler: async () => ({ status: 200, body: cyclic }) },
      {
        method: 'POST',
        path: '/echo',
        handler: async (request) => {
          calls += 1;
          return { status: 200, body: request.body };
        },
      },
    ];
    const send = options.mount(routes);
    const serverError = {
      status: 500,
      body: { error: 'server_error', error_description: 'Internal server error' },
    };

    it('a throwing handler or an unserialisable answer → 500 server_error, and the app keeps answering', async () => {
      expect(await send('GET', '/t/throws')).toEqual(serverError);
      expect(await send('GET', '/t/bigint')).toEqual(serverError);
      expect(await send('GET', '/t/cycle')).toEqual(serverError);
      expect(await send('GET', '/t/ok')).toEqual({ status: 200, body: { ok: true } });
    });

    it(`a body nested deeper than ${MAX_BODY_DEPTH} → 400 invalid_request before the handler runs`, async () => {
      const before = calls;
      for (const depth of [MAX_BODY_DEPTH + 1, 6_000]) {
        expect(await send('POST', '/t/echo', deepJson(depth))).toMatchObject({
          status: 400,
          body: { error: 'invalid_request' },
        });
      }
      expect(calls).toBe(before);
      const atBound = await send('POST', '/t/echo', deepJson(MAX_BODY_DEPTH));
      expect(atBound.status).toBe(200);
      expect(calls).toBe(before + 1);
    });
  });
}
