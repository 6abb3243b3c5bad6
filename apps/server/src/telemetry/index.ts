// OpenTelemetry tracing: off unless the OTEL_* variables ask for it (see sdk.ts).
export { startTelemetry, tracingRequested, type Telemetry, type TelemetryEnv } from './sdk.ts';
export { TracedGate, type ActionTraceLookup } from './traced-gate.ts';
export { traceEvents } from './traced-store.ts';
export { traceChannels } from './traced-channels.ts';
