import { startTelemetry } from './sdk.ts';

// Imported first by the entry points (main.ts, dev.ts): ES modules evaluate in import order, so
// the SDK and its instrumentations are in place before the server's own modules run (pg and
// ioredis, loaded through `import`, are patched in place by startTelemetry itself). Does nothing
// unless the OTEL_* variables ask for traces.

export const telemetry = startTelemetry(process.env);

if (telemetry) {
  // Flush what is buffered as soon as the process is asked to stop; the entry points' own
  // handlers stop the service meanwhile.
  const flush = () => void telemetry.shutdown().catch((err: Error) => process.stderr.write(`countersign: tracing: ${err.message}\n`));
  process.once('SIGTERM', flush);
  process.once('SIGINT', flush);
}
