/**
 * The load generator of the HTTP benchmark: autocannon in a process of its own, pinned to core 1 by
 * http.ts so it does not share a core with the server it drives. Answers each `LoadRequest` message
 * with a `LoadResult`, one at a time.
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  port: number;
  token: string;
  connections: number;
  durationSec: number;
}

export interface LoadResult {
  ok2xx: number;
  /** non-2xx answers, socket errors and timeouts. */
  failed: number;
  rps: number;
}

process.on('message', (message) => {
  const { port, token, connections, durationSec } = message as LoadRequest;
  autocannon(
    {
      url: `http://127.0.0.1:${port}/me`,
      connections,
      pipelining: 1,
      duration: durationSec,
      headers: { authorization: `Bearer ${token}` },
    },
    (err, result) => {
      if (err) {
        process.send?.({ error: String(err) });
        return;
      }
      const failed = result.errors + result.timeouts + result.non2xx;
      process.send?.({ ok2xx: result['2xx'], failed, rps: result.requests.average } satisfies LoadResult);
    },
  );
});
process.send?.({ ready: true });
process.on('disconnect', () => process.exit(0));
