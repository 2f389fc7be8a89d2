import type { Provisioner } from '@jit-provision/core';
import { Counter, Registry } from 'prom-client';

/** `GET /metrics`: the provisioner's `stats()` in the Prometheus text format. */
export interface PrometheusMetrics {
  contentType: string;
  /** The exposition text, read from `provisioner.stats()` at each scrape. */
  text(): Promise<string>;
}

type Labels = Record<string, string>;

/**
 * Expose `provisioner.stats()` with prom-client, in a registry of its own (add `collectDefaultMetrics` to it
 * for process metrics). Each counter is re-read from `stats()` at scrape time: nothing to keep in step.
 * Serve it on a port or path your load balancer does not expose: counters are not for the public.
 *
 * @example
 * ```ts
 * const metrics = prometheusMetrics(provisioner);
 * app.get('/metrics', async (_req, res) => res.type(metrics.contentType).send(await metrics.text()));
 * ```
 */
export function prometheusMetrics(provisioner: Pick<Provisioner, 'stats'>): PrometheusMetrics {
  const registry = new Registry();
  const counter = (
    name: string,
    help: string,
    read: (stats: ReturnType<Provisioner['stats']>) => [Labels, number][],
  ) => {
    const labelNames = [...new Set(read(provisioner.stats()).flatMap(([labels]) => Object.keys(labels)))];
    new Counter({
      name,
      help,
      labelNames: [...labelNames, 'reason', 'code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of read(provisioner.stats())) this.inc(labels, value);
      },
    });
  };
  counter('jit_requests_total', 'Authenticated requests by outcome', ({ requests }) => {
    const { invalidToken, policyRejected, ...outcomes } = requests;
    return [
      ...Object.entries(outcomes)
        .filter(([outcome]) => outcome !== 'invalid_token' && outcome !== 'policy_rejected')
        .map(([outcome, n]): [Labels, number] => [{ outcome }, n]),
      ...Object.entries(invalidToken).map(([reason, n]): [Labels, number] => [
        { outcome: 'invalid_token', reason },
        n,
      ]),
      ...Object.entries(policyRejected).map(([code, n]): [Labels, number] => [
        { outcome: 'policy_rejected', code },
        n,
      ]),
    ];
  });
  counter('jit_users_created_total', 'Users created', (s) => [[{}, s.usersCreated]]);
  counter('jit_cache_hits_total', 'Cache hits by cache', (s) => [
    [{ cache: 'token' }, s.cache.token.hits],
    [{ cache: 'user' }, s.cache.user.hits],
  ]);
  counter('jit_cache_misses_total', 'Cache misses by cache', (s) => [
    [{ cache: 'token' }, s.cache.token.misses],
    [{ cache: 'user' }, s.cache.user.misses],
  ]);
  counter('jit_hooks_total', 'Inline hook runs by outcome', (s) => [
    [{ outcome: 'ok' }, s.hooks.ok],
    [{ outcome: 'failed' }, s.hooks.failed],
    [{ outcome: 'timed_out' }, s.hooks.timedOut],
  ]);
  counter('jit_outbox_deliveries_total', 'Outbox deliveries by outcome', (s) =>
    Object.entries(s.outbox).map(([outcome, n]): [Labels, number] => [{ outcome }, n]),
  );
  counter('jit_invalidations_total', 'User changes received from the store change feed', (s) => [
    [{}, s.invalidations],
  ]);
  return { contentType: registry.contentType, text: () => registry.metrics() };
}
