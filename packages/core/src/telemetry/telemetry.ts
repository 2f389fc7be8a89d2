import { createRequire } from 'node:module';
import { isJitProvisionError } from '../errors';
import type { Store } from '../store';
import type { Identity, Logger } from '../types';

// OpenTelemetry is an optional peer dependency: only the few shapes used here are declared, so that neither
// core's code nor its published types need `@opentelemetry/api` to be installed.
type Attributes = Record<string, string | number | boolean>;
interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number }): unknown;
  end(): void;
}
interface OtelTracer {
  startSpan(name: string, options?: { attributes?: Attributes }, context?: unknown): OtelSpan;
}
interface OtelCounter {
  add(value: number, attributes?: Attributes): void;
}
interface OtelHistogram {
  record(value: number, attributes?: Attributes): void;
}
interface OtelMeter {
  createCounter(name: string, options?: { unit?: string; description?: string }): OtelCounter;
  createHistogram(name: string, options?: { unit?: string; description?: string }): OtelHistogram;
  createObservableGauge(
    name: string,
    options?: { unit?: string; description?: string },
  ): {
    addCallback(
      callback: (result: { observe(value: number, attributes?: Attributes): void }) => unknown,
    ): void;
  };
}
interface OtelApi {
  trace: {
    getTracerProvider(): OtelTracerProvider & { getDelegate?(): unknown };
    setSpan(context: unknown, span: OtelSpan): unknown;
  };
  metrics: { getMeterProvider(): OtelMeterProvider };
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
}

/** A tracer provider as `@opentelemetry/api` defines it (e.g. the SDK's `BasicTracerProvider`). */
export interface OtelTracerProvider {
  getTracer(name: string, version?: string): OtelTracer;
}
/** A meter provider as `@opentelemetry/api` defines it (e.g. the SDK's `MeterProvider`). */
export interface OtelMeterProvider {
  getMeter(name: string, version?: string): OtelMeter;
}

/**
 * `createProvisioner({ telemetry })`. By default the provisioner uses the providers registered with
 * `@opentelemetry/api` when the provisioner is created (register the SDK first); `false` turns
 * OpenTelemetry off (`stats()` still counts).
 */
export interface TelemetryOptions {
  /** Use this tracer provider instead of the global one. */
  tracerProvider?: OtelTracerProvider;
  /** Use this meter provider instead of the global one. */
  meterProvider?: OtelMeterProvider;
  /** How often the outbox gauge may read `store.outbox.list` (it answers from its last read in between). Default 30,000 ms. */
  outboxGaugeIntervalMs?: number;
}

/** How an authenticated request ended, as `stats().requests` and the `jit.requests` counter name it. */
export type RequestOutcome =
  | 'ok'
  | 'missing_token'
  | 'invalid_token'
  | 'user_disabled'
  | 'not_provisioned'
  | 'policy_rejected'
  | 'store_unavailable'
  | 'error';

/**
 * `provisioner.stats()`: counters since the provisioner was created, for apps without OpenTelemetry. The same
 * numbers as the OpenTelemetry metrics (docs/observability.md).
 */
export interface ProvisionerStats {
  /** `authenticate` calls by outcome; `invalidToken` and `policyRejected` broken down by reason / code. */
  requests: Record<RequestOutcome, number> & {
    invalidToken: Record<string, number>;
    policyRejected: Record<string, number>;
  };
  /** Users created (first logins and `preProvision`). */
  usersCreated: number;
  /** Hits and misses of the verified-token cache and of the user cache. */
  cache: { token: { hits: number; misses: number }; user: { hits: number; misses: number } };
  /** Hook runs by outcome: inline ones of first logins, and every run of an outbox delivery (a timeout there counts as failed). */
  hooks: { ok: number; failed: number; timedOut: number };
  /** Outbox deliveries: `delivered`, `retry` (failed, will be retried), `failed` (gave up). */
  outbox: { delivered: number; retry: number; failed: number };
  /** Changes received from the store's change feed (`store.changes`). */
  invalidations: number;
}

const NAME = '@jit-provision/core';
const POLICY_CODES = new Set(['policy_rejected', 'email_domain_not_allowed', 'email_not_verified']);
const OTEL_ERROR = 2; // SpanStatusCode.ERROR

let loaded: OtelApi | null | undefined;
/** `@opentelemetry/api` if the app has it installed; loaded once, on the first provisioner. */
function loadApi(): OtelApi | null {
  if (loaded !== undefined) return loaded;
  try {
    // A require from either build: the API keeps its providers on a global symbol, so the CJS copy loaded here
    // sees what an ESM app registered.
    loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
  } catch {
    loaded = null;
  }
  return loaded;
}

/** True unless `provider` is the API's no-op (what the globals are until an SDK registers). */
const registered = (provider: object | undefined): boolean => {
  const real = (provider as { getDelegate?(): unknown } | undefined)?.getDelegate?.() ?? provider;
  const name = (real as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  return real !== undefined && name !== 'NoopTracerProvider' && name !== 'NoopMeterProvider';
};

/** The error class a span and a counter name: the error's code, else `_OTHER` (semantic conventions). */
const errorType = (err: unknown): string => (isJitProvisionError(err) ? err.code : '_OTHER');
const seconds = (start: number) => (performance.now() - start) / 1000;

function emptyStats(): ProvisionerStats {
  return {
    requests: {
      ok: 0,
      missing_token: 0,
      invalid_token: 0,
      user_disabled: 0,
      not_provisioned: 0,
      policy_rejected: 0,
      store_unavailable: 0,
      error: 0,
      invalidToken: {},
      policyRejected: {},
    },
    usersCreated: 0,
    cache: { token: { hits: 0, misses: 0 }, user: { hits: 0, misses: 0 } },
    hooks: { ok: 0, failed: 0, timedOut: 0 },
    outbox: { delivered: 0, retry: 0, failed: 0 },
    invalidations: 0,
  };
}

/** Classify a refused request: its outcome, and the reason (invalid token) or code (policy) under it. */
function refusal(err: unknown): { outcome: RequestOutcome; detail?: string } {
  if (!isJitProvisionError(err)) return { outcome: 'error' };
  switch (err.code) {
    case 'missing_token':
      return { outcome: 'missing_token' };
    case 'invalid_token':
      return { outcome: 'invalid_token', detail: err.reason };
    case 'user_disabled':
      return { outcome: 'user_disabled' };
    case 'user_not_provisioned':
      return { outcome: 'not_provisioned' };
    case 'provisioning_unavailable':
      return { outcome: 'store_unavailable' };
    default:
      return POLICY_CODES.has(err.code) || err.code.startsWith('invitation_')
        ? { outcome: 'policy_rejected', detail: err.code }
        : { outcome: 'error' };
  }
}

const bump = (record: Record<string, number>, key: string) => {
  record[key] = (record[key] ?? 0) + 1;
};

/** Ends a hook run, an outbox delivery or a span with its outcome. */
export type Finish<O extends string> = (outcome: O, err?: unknown) => void;

/**
 * The provisioner's counters and, when an OpenTelemetry provider is registered, its spans and metrics. Every
 * method is cheap when OpenTelemetry is off: integer increments, and the `trace*` wrappers return what they
 * were given, so the request path runs exactly as without telemetry.
 */
export interface Telemetry {
  stats(): ProvisionerStats;
  /** A request answered from the token cache and the user cache. */
  served(identity: Identity, userId: string): void;
  /** The verified-token cache knew the token (the user cache did not serve it). */
  tokenHit(): void;
  /** The verified-token cache did not know the token. */
  tokenMiss(): void;
  userCache(hit: boolean): void;
  ok(): void;
  refused(err: unknown, issuer?: string): void;
  created(): void;
  invalidation(): void;
  hook(label: string, name: string, userId: string): Finish<'ok' | 'failed' | 'timed_out'>;
  delivery(event: {
    id: string;
    type: string;
    userId: string;
    attempts: number;
  }): Finish<'delivered' | 'retry' | 'failed'>;
  /** `verify` inside a `jit.verify` span, timed; `undefined` when OpenTelemetry is off. */
  traceVerify?: <T extends { identity: Identity }>(
    verify: () => Promise<T>,
    issuerOf: () => string | undefined,
  ) => Promise<T>;
  /** `ensureUserExists` inside a `jit.provision` span. */
  traceProvision<
    F extends (identity: Identity) => Promise<{ user: { id: string }; created: boolean; path: string }>,
  >(ensure: F): F;
  /** The slow path, timed. */
  traceSlowPath<A extends unknown[], R>(slow: (...args: A) => Promise<R>): (...args: A) => Promise<R>;
  /** The store with a `jit.store.<op>` span around every call, and the lookup timed. */
  traceStore(store: Store): Store;
}

/** The parts of a store whose methods are traced as `jit.store.<part>.<method>`. */
const STORE_PARTS = new Set(['outbox', 'users', 'reservations', 'invitations']);

/**
 * Build the telemetry of one provisioner. `telemetry: false`, no `@opentelemetry/api`, or no provider
 * registered: counters only.
 */
export function createTelemetry(
  options: TelemetryOptions | false | undefined,
  store: Store,
  logger: Logger,
): Telemetry {
  const counts = emptyStats();
  const api = options === false ? null : loadApi();
  const tracerProvider =
    options === false
      ? undefined
      : (options?.tracerProvider ?? (api === null ? undefined : api.trace.getTracerProvider()));
  const meterProvider =
    options === false
      ? undefined
      : (options?.meterProvider ?? (api === null ? undefined : api.metrics.getMeterProvider()));
  const tracer =
    tracerProvider !== undefined && registered(tracerProvider) ? tracerProvider.getTracer(NAME) : undefined;
  const meter =
    meterProvider !== undefined && registered(meterProvider) ? meterProvider.getMeter(NAME) : undefined;
  const m = meter === undefined ? undefined : instruments(meter, options || {}, store, logger);

  // Runs `fn` with `span` as the active span, so store and hook spans nest under it (needs the API's context).
  const within = <T>(span: OtelSpan, fn: () => T): T =>
    api === null ? fn() : api.context.with(api.trace.setSpan(api.context.active(), span), fn);
  const fail = (span: OtelSpan, err: unknown) => {
    span.setAttribute('error.type', errorType(err));
    span.setStatus({ code: OTEL_ERROR });
  };

  const telemetry: Telemetry = {
    stats: () => structuredClone(counts),
    served(identity, userId) {
      counts.requests.ok++;
      counts.cache.token.hits++;
      counts.cache.user.hits++;
      if (m !== undefined) {
        m.requests.add(1, { 'jit.outcome': 'ok' });
        m.cacheHits.add(1, { 'jit.cache.name': 'token' });
        m.cacheHits.add(1, { 'jit.cache.name': 'user' });
      }
      if (tracer !== undefined) {
        const verify = tracer.startSpan('jit.verify', {
          attributes: { 'jit.issuer': identity.issuer, 'jit.cache.hit': true },
        });
        verify.end();
        const provision = tracer.startSpan('jit.provision', {
          attributes: { 'jit.path': 'cache', 'jit.created': false, 'enduser.id': userId },
        });
        provision.end();
      }
    },
    tokenHit() {
      counts.cache.token.hits++;
      m?.cacheHits.add(1, { 'jit.cache.name': 'token' });
    },
    tokenMiss() {
      counts.cache.token.misses++;
      m?.cacheMisses.add(1, { 'jit.cache.name': 'token' });
    },
    userCache(hit) {
      if (hit) counts.cache.user.hits++;
      else counts.cache.user.misses++;
      (hit ? m?.cacheHits : m?.cacheMisses)?.add(1, { 'jit.cache.name': 'user' });
    },
    ok() {
      counts.requests.ok++;
      m?.requests.add(1, { 'jit.outcome': 'ok' });
    },
    refused(err) {
      const { outcome, detail } = refusal(err);
      counts.requests[outcome]++;
      if (outcome === 'invalid_token' && detail !== undefined) bump(counts.requests.invalidToken, detail);
      if (outcome === 'policy_rejected' && detail !== undefined) bump(counts.requests.policyRejected, detail);
      if (m !== undefined) {
        const attributes: Attributes = { 'jit.outcome': outcome };
        if (outcome === 'invalid_token' && detail !== undefined)
          attributes['jit.token.failure_reason'] = detail;
        if (outcome === 'policy_rejected' && detail !== undefined) attributes['jit.policy.code'] = detail;
        m.requests.add(1, attributes);
      }
    },
    created() {
      counts.usersCreated++;
      m?.usersCreated.add(1);
    },
    invalidation() {
      counts.invalidations++;
      m?.invalidations.add(1);
    },
    hook(label, name, userId) {
      const span = tracer?.startSpan('jit.hook', {
        attributes: { 'jit.hook.label': label, 'jit.hook.name': name, 'enduser.id': userId },
      });
      return (outcome, err) => {
        if (outcome === 'ok') counts.hooks.ok++;
        else if (outcome === 'failed') counts.hooks.failed++;
        else counts.hooks.timedOut++;
        m?.hooks.add(1, { 'jit.outcome': outcome, 'jit.hook.label': label });
        if (span !== undefined) {
          span.setAttribute('jit.outcome', outcome);
          if (outcome === 'failed') fail(span, err);
          if (outcome === 'timed_out') {
            span.setAttribute('error.type', 'timeout');
            span.setStatus({ code: OTEL_ERROR });
          }
          span.end();
        }
      };
    },
    delivery(event) {
      const span = tracer?.startSpan('jit.outbox.deliver', {
        attributes: {
          'jit.event.id': event.id,
          'jit.event.type': event.type,
          'enduser.id': event.userId,
          'jit.outbox.attempt': event.attempts,
        },
      });
      return (outcome, err) => {
        counts.outbox[outcome]++;
        m?.deliveries.add(1, { 'jit.outcome': outcome });
        if (span !== undefined) {
          span.setAttribute('jit.outcome', outcome);
          if (outcome !== 'delivered') fail(span, err);
          span.end();
        }
      };
    },
    traceProvision(ensure) {
      if (tracer === undefined) return ensure;
      return ((identity: Identity) => {
        const span = tracer.startSpan('jit.provision', { attributes: { 'jit.issuer': identity.issuer } });
        return within(span, () => ensure(identity)).then(
          (result) => {
            span.setAttribute('jit.path', result.path);
            span.setAttribute('jit.created', result.created);
            span.setAttribute('enduser.id', result.user.id);
            span.end();
            return result;
          },
          (err: unknown) => {
            fail(span, err);
            span.end();
            throw err;
          },
        );
      }) as typeof ensure;
    },
    traceSlowPath(slow) {
      if (m === undefined) return slow;
      return async (...args) => {
        const start = performance.now();
        try {
          return await slow(...args);
        } finally {
          m.slowPath.record(seconds(start));
        }
      };
    },
    traceStore(target) {
      if (tracer === undefined && m === undefined) return target;
      return wrapStore(target, '', (op, call) => {
        const span = tracer?.startSpan(`jit.store.${op}`, { attributes: { 'db.operation.name': op } });
        const start = performance.now();
        const settle = (err?: unknown) => {
          if (op === 'lookup')
            m?.lookup.record(seconds(start), err === undefined ? {} : { 'error.type': errorType(err) });
          if (span !== undefined) {
            if (err !== undefined) fail(span, err);
            span.end();
          }
        };
        const result = span === undefined ? call() : within(span, call);
        if (!(result instanceof Promise)) {
          settle();
          return result;
        }
        return result.then(
          (value) => {
            settle();
            return value;
          },
          (err: unknown) => {
            settle(err);
            throw err;
          },
        );
      });
    },
  };
  if (tracer !== undefined) {
    telemetry.traceVerify = (verify, issuerOf) => {
      const span = tracer.startSpan('jit.verify', { attributes: { 'jit.cache.hit': false } });
      const start = performance.now();
      return verify().then(
        (verified) => {
          span.setAttribute('jit.issuer', verified.identity.issuer);
          m?.verify.record(seconds(start), { 'jit.issuer': verified.identity.issuer });
          span.end();
          return verified;
        },
        (err: unknown) => {
          const issuer = issuerOf();
          if (issuer !== undefined) span.setAttribute('jit.issuer', issuer);
          if (isJitProvisionError(err, 'invalid_token'))
            span.setAttribute('jit.token.failure_reason', err.reason);
          fail(span, err);
          m?.verify.record(seconds(start), { 'error.type': errorType(err) });
          span.end();
          throw err;
        },
      );
    };
  } else if (m !== undefined) {
    telemetry.traceVerify = (verify) => {
      const start = performance.now();
      return verify().then(
        (verified) => {
          m.verify.record(seconds(start), { 'jit.issuer': verified.identity.issuer });
          return verified;
        },
        (err: unknown) => {
          m.verify.record(seconds(start), { 'error.type': errorType(err) });
          throw err;
        },
      );
    };
  }
  return telemetry;
}

/** Every instrument of docs/observability.md, on `meter`. */
function instruments(meter: OtelMeter, options: TelemetryOptions, store: Store, logger: Logger) {
  const counter = (name: string, unit: string, description: string) =>
    meter.createCounter(name, { unit, description });
  const histogram = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description });
  const outbox = store.outbox;
  if (outbox !== undefined) {
    const intervalMs = options.outboxGaugeIntervalMs ?? 30_000;
    let last = { pending: 0, failed: 0 };
    let readAt = Number.NEGATIVE_INFINITY;
    // Counted with `list` (capped at 1,000 per status): a gauge, not an audit. Read at most once per interval,
    // so a fast metric reader never turns into a query storm.
    meter
      .createObservableGauge('jit.outbox.events', {
        unit: '{event}',
        description: 'Outbox events pending delivery and failed for good (at most 1,000 counted per status)',
      })
      .addCallback(async (result) => {
        if (performance.now() - readAt >= intervalMs) {
          readAt = performance.now();
          try {
            const [pending, failed] = await Promise.all([
              outbox.list({ status: 'pending', limit: 1_000 }),
              outbox.list({ status: 'failed', limit: 1_000 }),
            ]);
            last = { pending: pending.length, failed: failed.length };
          } catch (err) {
            logger.warn({ error: errorType(err) }, 'outbox gauge could not read the outbox');
          }
        }
        result.observe(last.pending, { 'jit.outbox.status': 'pending' });
        result.observe(last.failed, { 'jit.outbox.status': 'failed' });
      });
  }
  return {
    requests: counter('jit.requests', '{request}', 'Authenticated requests by outcome'),
    usersCreated: counter('jit.users.created', '{user}', 'Users created'),
    cacheHits: counter('jit.cache.hits', '{lookup}', 'Cache hits, by cache (token, user)'),
    cacheMisses: counter('jit.cache.misses', '{lookup}', 'Cache misses, by cache (token, user)'),
    hooks: counter('jit.hooks', '{run}', 'Inline hook runs by outcome'),
    deliveries: counter('jit.outbox.deliveries', '{delivery}', 'Outbox deliveries by outcome'),
    invalidations: counter(
      'jit.invalidations',
      '{change}',
      'User changes received from the store change feed',
    ),
    verify: histogram('jit.verify.duration', 'Token verification on a token-cache miss'),
    lookup: histogram('jit.store.lookup.duration', 'store.lookup calls'),
    slowPath: histogram('jit.provision.slow_path.duration', 'First-login slow path: policies, create, hooks'),
  };
}

type Around = (op: string, call: () => unknown) => unknown;

/** `store` with every method (and every method of its parts) called through `around`; `changes` is left alone. */
function wrapStore<S extends object>(store: S, prefix: string, around: Around): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || value === null || value === undefined) return value;
      if (wrapped.has(prop)) return wrapped.get(prop);
      let out = value;
      if (typeof value === 'function') {
        const op = `${prefix}${prop}`;
        const method = value as (...args: unknown[]) => unknown;
        out = (...args: unknown[]) => around(op, () => method.apply(target, args));
      } else if (prefix === '' && typeof value === 'object' && STORE_PARTS.has(prop)) {
        out = wrapStore(value, `${prop}.`, around);
      } else {
        return value;
      }
      wrapped.set(prop, out);
      return out;
    },
  });
}
