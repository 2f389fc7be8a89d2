// The door of telemetry/: what other folders of core may use from it.
export type { OtelMeterProvider, OtelTracerProvider, TelemetryOptions } from './otel';
export type { ProvisionerStats, RequestOutcome } from './stats';
export { createTelemetry, type Telemetry } from './telemetry';
