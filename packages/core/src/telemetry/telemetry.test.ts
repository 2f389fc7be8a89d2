import { createMemoryStore } from '@jit-provision/store-memory';
import { metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDevIssuer, type DevIssuer } from '../dev';
import { emailDomainAllowlist } from '../policies';
import type { ProvisionerOptions } from '../provisioning';
import { createProvisioner } from '../provisioning';

let idp: DevIssuer;
beforeAll(async () => {
  idp = await createDevIssuer();
});
afterAll(() => idp.close());
afterEach(() => {
  // Nothing registered here may leak into another test (or file).
  trace.disable();
  metrics.disable();
});

const MARKER = 'zq-secret-marker-7731';

/** A provisioner wired to an in-memory OpenTelemetry SDK, and readers of what it recorded. */
function instrumented(options: Partial<ProvisionerOptions> = {}) {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const provisioner = createProvisioner({
    store: createMemoryStore(),
    issuers: [{ issuer: idp.issuer, audience: 'api' }],
    telemetry: { tracerProvider, meterProvider, outboxGaugeIntervalMs: 0 },
    logger: { warn: () => undefined, error: () => undefined },
    ...options,
  });
  const metricsNow = async (): Promise<MetricData[]> => {
    exporter.reset();
    await reader.forceFlush();
    return exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  };
  /** The value of a counter (or gauge) for the data point whose attributes include `attrs`. */
  const value = async (name: string, attrs: Record<string, unknown> = {}) => {
    const metric = (await metricsNow()).find((m) => m.descriptor.name === name);
    const points = (metric?.dataPoints ?? []) as Array<{
      attributes: Record<string, unknown>;
      value: unknown;
    }>;
    return points
      .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
      .reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : 0), 0);
  };
  const histogramCount = async (name: string) => {
    const metric = (await metricsNow()).find((m) => m.descriptor.name === name);
    if (metric === undefined || metric.dataPointType !== DataPointType.HISTOGRAM) return 0;
    return metric.dataPoints.reduce((sum, p) => sum + p.value.count, 0);
  };
  const finished = () => spans.getFinishedSpans();
  const named = (name: string) => finished().filter((s) => s.name === name);
  return {
    provisioner,
    spans,
    finished,
    named,
    value,
    histogramCount,
    metricsNow,
    meterProvider,
    tracerProvider,
  };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const mint = (sub: string, expiresIn = 300) =>
  idp.mint({ sub, email: `${MARKER}@example.com`, name: MARKER }, { audience: 'api', expiresIn });

/** Every attribute value of every span and metric data point, as strings. */
async function everyAttribute(t: ReturnType<typeof instrumented>): Promise<string[]> {
  const values = t.finished().flatMap((s: ReadableSpan) => Object.values(s.attributes).map(String));
  for (const metric of await t.metricsNow())
    for (const point of metric.dataPoints) values.push(...Object.values(point.attributes).map(String));
  return values;
}

describe('OpenTelemetry traces and metrics', () => {
  it('a first login: verify, store calls and the slow path; then a cache hit: spans without the store', async () => {
    const t = instrumented();
    const token = await mint('first');
    const first = await t.provisioner.authenticate(bearer(token));
    expect(first.created).toBe(true);
    const userId = first.user?.id;

    const [verify] = t.named('jit.verify');
    expect(verify?.attributes).toMatchObject({ 'jit.issuer': idp.issuer, 'jit.cache.hit': false });
    const [provision] = t.named('jit.provision');
    expect(provision?.attributes).toMatchObject({
      'jit.path': 'slow',
      'jit.created': true,
      'enduser.id': userId,
    });
    expect(t.named('jit.store.lookup')).toHaveLength(1);
    expect(t.named('jit.store.upsert')).toHaveLength(1);
    expect(t.named('jit.store.lookup')[0]?.attributes['db.operation.name']).toBe('lookup');

    t.spans.reset();
    const again = await t.provisioner.authenticate(bearer(token));
    expect(again.user?.id).toBe(userId);
    expect(t.named('jit.verify')[0]?.attributes).toMatchObject({
      'jit.cache.hit': true,
      'jit.issuer': idp.issuer,
    });
    expect(t.named('jit.provision')[0]?.attributes).toMatchObject({
      'jit.path': 'cache',
      'enduser.id': userId,
    });
    expect(t.finished().filter((s) => s.name.startsWith('jit.store.'))).toHaveLength(0);

    expect(await t.value('jit.requests', { 'jit.outcome': 'ok' })).toBe(2);
    expect(await t.value('jit.users.created')).toBe(1);
    expect(await t.value('jit.cache.hits', { 'jit.cache.name': 'token' })).toBe(1);
    expect(await t.value('jit.cache.misses', { 'jit.cache.name': 'token' })).toBe(1);
    expect(await t.value('jit.cache.hits', { 'jit.cache.name': 'user' })).toBe(1);
    expect(await t.value('jit.cache.misses', { 'jit.cache.name': 'user' })).toBe(1);
    expect(await t.histogramCount('jit.verify.duration')).toBe(1);
    expect(await t.histogramCount('jit.store.lookup.duration')).toBe(1);
    expect(await t.histogramCount('jit.provision.slow_path.duration')).toBe(1);

    const stats = t.provisioner.stats();
    expect(stats.requests.ok).toBe(2);
    expect(stats.usersCreated).toBe(1);
    expect(stats.cache).toEqual({ token: { hits: 1, misses: 1 }, user: { hits: 1, misses: 1 } });
  });

  it('a rejected token: a failed jit.verify span with the reason, counted by reason, nothing provisioned', async () => {
    const t = instrumented();
    const expired = await idp.mint(
      { sub: 'late', email: `${MARKER}@example.com` },
      { audience: 'api', expiresIn: -60 },
    );
    await expect(t.provisioner.authenticate(bearer(expired))).rejects.toMatchObject({
      code: 'invalid_token',
    });
    await expect(t.provisioner.authenticate({ headers: {} })).rejects.toMatchObject({
      code: 'missing_token',
    });

    const [verify] = t.named('jit.verify');
    expect(verify?.attributes).toMatchObject({
      'error.type': 'invalid_token',
      'jit.token.failure_reason': 'expired',
      'jit.issuer': idp.issuer,
    });
    expect(verify?.status.code).toBe(2);
    expect(t.named('jit.provision')).toHaveLength(0);
    expect(
      await t.value('jit.requests', {
        'jit.outcome': 'invalid_token',
        'jit.token.failure_reason': 'expired',
      }),
    ).toBe(1);
    expect(await t.value('jit.requests', { 'jit.outcome': 'missing_token' })).toBe(1);
    expect(t.provisioner.stats().requests).toMatchObject({
      ok: 0,
      invalid_token: 1,
      missing_token: 1,
      invalidToken: { expired: 1 },
    });
  });

  it('a policy refusal is counted by its code', async () => {
    const t = instrumented({ policies: [emailDomainAllowlist(['corp.example'])] });
    await expect(t.provisioner.authenticate(bearer(await mint('outsider')))).rejects.toMatchObject({
      code: 'email_not_verified',
    });
    expect(
      await t.value('jit.requests', {
        'jit.outcome': 'policy_rejected',
        'jit.policy.code': 'email_not_verified',
      }),
    ).toBe(1);
    expect(t.named('jit.provision')[0]?.attributes['error.type']).toBe('email_not_verified');
    expect(t.provisioner.stats().requests.policyRejected).toEqual({ email_not_verified: 1 });
  });

  it('a failing inline hook: a failed jit.hook span, counted, and the user is still created', async () => {
    const t = instrumented({
      onProvisioned: [
        async function welcome() {
          throw new Error(`mailer down for ${MARKER}@example.com`);
        },
      ],
    });
    const result = await t.provisioner.authenticate(bearer(await mint('hooked')));
    expect(result.created).toBe(true);
    const [hook] = t.named('jit.hook');
    expect(hook?.attributes).toMatchObject({
      'jit.hook.name': 'welcome',
      'jit.hook.label': 'onProvisioned',
      'jit.outcome': 'failed',
      'error.type': '_OTHER',
      'enduser.id': result.user?.id,
    });
    expect(await t.value('jit.hooks', { 'jit.outcome': 'failed' })).toBe(1);
    expect(t.provisioner.stats().hooks).toEqual({ ok: 0, failed: 1, timedOut: 0 });
    // The hook's error message (which names the email) is in no span: only its class.
    expect((await everyAttribute(t)).some((v) => v.includes(MARKER))).toBe(false);
  });

  it('outbox delivery: a jit.outbox.deliver span per attempt, deliveries counted, the gauge reads the outbox', async () => {
    let calls = 0;
    const t = instrumented({
      hookDelivery: 'outbox',
      outbox: { pollMs: 3_600_000, backoff: () => 0 },
      onProvisioned: [
        async () => {
          calls++;
          if (calls === 1) throw new Error('first attempt fails');
        },
      ],
    });
    const result = await t.provisioner.authenticate(bearer(await mint('outboxed')));
    await t.provisioner.outbox?.stop();
    // The creation's nudge may be running; drain until the retry is delivered too.
    for (let i = 0; i < 100 && t.provisioner.stats().outbox.delivered === 0; i++)
      await t.provisioner.outbox?.drain();
    expect(t.provisioner.stats().outbox).toEqual({ delivered: 1, retry: 1, failed: 0 });
    const deliveries = t.named('jit.outbox.deliver');
    expect(deliveries.map((s) => s.attributes['jit.outcome']).sort()).toEqual(['delivered', 'retry']);
    expect(deliveries[0]?.attributes['enduser.id']).toBe(result.user?.id);
    expect(await t.value('jit.outbox.deliveries', { 'jit.outcome': 'retry' })).toBe(1);
    expect(
      t
        .named('jit.hook')
        .map((s) => s.attributes['jit.outcome'])
        .sort(),
    ).toEqual(['failed', 'ok']);
    expect(t.provisioner.stats().hooks).toEqual({ ok: 1, failed: 1, timedOut: 0 });
    expect(await t.value('jit.outbox.events', { 'jit.outbox.status': 'pending' })).toBe(0);
    expect(await t.value('jit.outbox.events', { 'jit.outbox.status': 'failed' })).toBe(0);
    await t.provisioner.close();
  });

  it('counts a token-cache hit whose user is not cached, and every change the feed reports', async () => {
    const t = instrumented({ userCache: false });
    const token = await mint('uncached');
    const first = await t.provisioner.authenticate(bearer(token));
    await t.provisioner.authenticate(bearer(token));
    expect(t.provisioner.stats().cache).toEqual({
      token: { hits: 1, misses: 1 },
      user: { hits: 0, misses: 2 },
    });
    expect(await t.value('jit.cache.hits', { 'jit.cache.name': 'token' })).toBe(1);

    const fed = instrumented();
    const user = (await fed.provisioner.authenticate(bearer(token))).user;
    // The memory store's change feed reports the disable; poll until the provisioner has seen it.
    await fed.provisioner.disable(user?.id ?? '');
    for (let i = 0; i < 1_000 && fed.provisioner.stats().invalidations === 0; i++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(fed.provisioner.stats().invalidations).toBeGreaterThanOrEqual(1);
    expect(await fed.value('jit.invalidations')).toBe(fed.provisioner.stats().invalidations);
    expect(first.user?.id).toBeDefined();
  });

  it('no token, email or claim value reaches any span or metric attribute', async () => {
    const t = instrumented({ onProvisioned: [async () => undefined] });
    const token = await mint('private');
    await t.provisioner.authenticate(bearer(token));
    await t.provisioner.authenticate(bearer(token));
    await expect(t.provisioner.authenticate(bearer(`${token}x`))).rejects.toMatchObject({
      code: 'invalid_token',
    });
    const forged = await idp.mint(
      { sub: 'x', email: `${MARKER}@example.com` },
      { audience: 'other', expiresIn: 60 },
    );
    await expect(t.provisioner.authenticate(bearer(forged))).rejects.toMatchObject({ code: 'invalid_token' });
    const values = await everyAttribute(t);
    expect(values.length).toBeGreaterThan(20);
    for (const secret of [MARKER, token, forged, token.split('.')[2] ?? 'sig', '@example.com'])
      expect(values.filter((v) => v.includes(secret))).toEqual([]);
  });

  it('uses the globally registered providers, and records nothing when none is registered', async () => {
    const token = await mint('global');
    const unregistered = createProvisioner({
      store: createMemoryStore(),
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
    });
    await unregistered.authenticate(bearer(token));
    expect(unregistered.stats().requests.ok).toBe(1); // counted without OpenTelemetry

    const spans = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    // Created before the provider was registered: it looked once, and stays untraced.
    await unregistered.authenticate(bearer(token));
    expect(spans.getFinishedSpans()).toHaveLength(0);

    const traced = createProvisioner({
      store: createMemoryStore(),
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
    });
    await traced.authenticate(bearer(token));
    expect(spans.getFinishedSpans().map((s) => s.name)).toContain('jit.provision');

    spans.reset();
    const off = createProvisioner({
      store: createMemoryStore(),
      issuers: [{ issuer: idp.issuer, audience: 'api' }],
      telemetry: false,
    });
    await off.authenticate(bearer(token));
    expect(spans.getFinishedSpans()).toHaveLength(0);
    expect(off.stats().requests.ok).toBe(1);
  });
});
