// The door of telemetry/: what other folders of core may use from it.
export {
  createTelemetry,
  type OtelMeterProvider,
  type OtelTracerProvider,
  type ProvisionerStats,
  type RequestOutcome,
  type Telemetry,
  type TelemetryOptions,
} from './telemetry';
