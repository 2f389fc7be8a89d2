import { createRequire } from 'node:module';
import { isJitProvisionError } from '../errors';
import type { Store } from '../store';
import type { Identity, Logger } from '../types';
import type { DeliveryOutcome, HookOutcome, Refusal } from './stats';

// OpenTelemetry is an optional peer dependency: only the few shapes used here are declared, so that neither
// core's code nor its published types need `@opentelemetry/api` to be installed.
export type Attributes = Record<string, string | number | boolean>;
export interface OtelSpan {
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

const NAME = '@jit-provision/core';
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
export const errorType = (err: unknown): string => (isJitProvisionError(err) ? err.code : '_OTHER');
/** Seconds since `start` (a `performance.now()`), the unit of every histogram. */
export const seconds = (start: number) => (performance.now() - start) / 1000;

/** Marks `span` failed with the error's class. */
export const fail = (span: OtelSpan, err: unknown) => {
  span.setAttribute('error.type', errorType(err));
  span.setStatus({ code: OTEL_ERROR });
};

/** Every instrument of docs/observability.md. */
export type Instruments = ReturnType<typeof instruments>;

/**
 * The tracer and the instruments of one provisioner, for whichever provider is registered (at least one is),
 * and how to run code under a span.
 */
export interface OtelBridge {
  tracer: OtelTracer | undefined;
  metrics: Instruments | undefined;
  /** Runs `fn` with `span` as the active span, so store and hook spans nest under it. */
  within<T>(span: OtelSpan, fn: () => T): T;
}

/**
 * Connect to OpenTelemetry once, when the provisioner is created: the given providers, else the globals of
 * `@opentelemetry/api` when it is installed. Undefined when neither a tracer nor a meter provider is
 * registered, so that the provisioner never calls the API on a request.
 *
 * @example
 * ```ts
 * const otel = connectOtel({ tracerProvider }, store, logger);
 * if (otel !== undefined) otel.tracer?.startSpan('jit.verify').end();
 * ```
 */
export function connectOtel(
  options: TelemetryOptions | undefined,
  store: Store,
  logger: Logger,
): OtelBridge | undefined {
  const api = loadApi();
  const tracerProvider = options?.tracerProvider ?? api?.trace.getTracerProvider();
  const meterProvider = options?.meterProvider ?? api?.metrics.getMeterProvider();
  const tracer =
    tracerProvider !== undefined && registered(tracerProvider) ? tracerProvider.getTracer(NAME) : undefined;
  const meter =
    meterProvider !== undefined && registered(meterProvider) ? meterProvider.getMeter(NAME) : undefined;
  if (tracer === undefined && meter === undefined) return undefined;
  return {
    tracer,
    metrics: meter === undefined ? undefined : instruments(meter, options ?? {}, store, logger),
    // Nesting needs the API's context; providers given without the API installed get flat spans.
    within: (span, fn) =>
      api === null ? fn() : api.context.with(api.trace.setSpan(api.context.active(), span), fn),
  };
}

/** Every instrument of docs/observability.md, on `meter`. */
function instruments(meter: OtelMeter, options: TelemetryOptions, store: Store, logger: Logger) {
  const counter = (name: string, unit: string, description: string) =>
    meter.createCounter(name, { unit, description });
  const histogram = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description });
  const outbox = store.outbox;
  if (outbox !== undefined) outboxGauge(meter, outbox, options.outboxGaugeIntervalMs ?? 30_000, logger);
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

/** The `jit.outbox.events` gauge: pending and failed events of `outbox`. */
function outboxGauge(
  meter: OtelMeter,
  outbox: NonNullable<Store['outbox']>,
  intervalMs: number,
  logger: Logger,
): void {
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

/** What OpenTelemetry records of each event the provisioner reports; the counters are counted elsewhere. */
export interface OtelEvents {
  served(identity: Identity, userId: string): void;
  tokenHit(): void;
  tokenMiss(): void;
  userCache(hit: boolean): void;
  ok(): void;
  refused(refusal: Refusal): void;
  created(): void;
  invalidation(): void;
  hook(label: string, name: string, userId: string): (outcome: HookOutcome, err?: unknown) => void;
  delivery(event: {
    id: string;
    type: string;
    userId: string;
    attempts: number;
  }): (outcome: DeliveryOutcome, err?: unknown) => void;
}

/**
 * The spans and metric points of each event, on `otel`'s tracer and instruments (either may be missing).
 *
 * @example
 * ```ts
 * const events = otelEvents(otel);
 * const finish = events.hook('onProvisioned', 'welcome', user.id);
 * finish('ok');
 * ```
 */
export function otelEvents({ tracer, metrics: m }: OtelBridge): OtelEvents {
  return {
    served(identity, userId) {
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
    tokenHit: () => m?.cacheHits.add(1, { 'jit.cache.name': 'token' }),
    tokenMiss: () => m?.cacheMisses.add(1, { 'jit.cache.name': 'token' }),
    userCache: (hit) => (hit ? m?.cacheHits : m?.cacheMisses)?.add(1, { 'jit.cache.name': 'user' }),
    ok: () => m?.requests.add(1, { 'jit.outcome': 'ok' }),
    refused({ outcome, detail }) {
      if (m === undefined) return;
      const attributes: Attributes = { 'jit.outcome': outcome };
      if (outcome === 'invalid_token' && detail !== undefined)
        attributes['jit.token.failure_reason'] = detail;
      if (outcome === 'policy_rejected' && detail !== undefined) attributes['jit.policy.code'] = detail;
      m.requests.add(1, attributes);
    },
    created: () => m?.usersCreated.add(1),
    invalidation: () => m?.invalidations.add(1),
    hook(label, name, userId) {
      const span = tracer?.startSpan('jit.hook', {
        attributes: { 'jit.hook.label': label, 'jit.hook.name': name, 'enduser.id': userId },
      });
      return (outcome, err) => {
        m?.hooks.add(1, { 'jit.outcome': outcome, 'jit.hook.label': label });
        if (span === undefined) return;
        span.setAttribute('jit.outcome', outcome);
        if (outcome === 'failed') fail(span, err);
        if (outcome === 'timed_out') {
          span.setAttribute('error.type', 'timeout');
          span.setStatus({ code: OTEL_ERROR });
        }
        span.end();
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
        m?.deliveries.add(1, { 'jit.outcome': outcome });
        if (span === undefined) return;
        span.setAttribute('jit.outcome', outcome);
        if (outcome !== 'delivered') fail(span, err);
        span.end();
      };
    },
  };
}

/** `ensureUserExists` inside a `jit.provision` span; `ensure` itself without a tracer. */
export function traceProvision<
  F extends (identity: Identity) => Promise<{ user: { id: string }; created: boolean; path: string }>,
>({ tracer, within }: OtelBridge, ensure: F): F {
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
}

/** The slow path, timed; `slow` itself without a meter. */
export function traceSlowPath<A extends unknown[], R>(
  { metrics: m }: OtelBridge,
  slow: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  if (m === undefined) return slow;
  return async (...args) => {
    const start = performance.now();
    try {
      return await slow(...args);
    } finally {
      m.slowPath.record(seconds(start));
    }
  };
}

/** Wraps a token verification: a `jit.verify` span and / or the `jit.verify.duration` histogram. */
export type VerifyTracer = <T extends { identity: Identity }>(
  verify: () => Promise<T>,
  issuerOf: () => string | undefined,
) => Promise<T>;

/** `verify` inside a `jit.verify` span (with a tracer) and timed (with a meter); undefined with neither. */
export function verifyTracer({ tracer, metrics: m }: OtelBridge): VerifyTracer | undefined {
  if (tracer !== undefined) return spannedVerify(tracer, m);
  return m === undefined ? undefined : timedVerify(m);
}

function spannedVerify(tracer: OtelTracer, m: Instruments | undefined): VerifyTracer {
  return (verify, issuerOf) => {
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
}

function timedVerify(m: Instruments): VerifyTracer {
  return (verify) => {
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
