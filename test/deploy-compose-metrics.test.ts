import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml publishes countersign on 127.0.0.1:8080 for a TLS reverse proxy, which
// forwards every path: /metrics on that port (open unless COUNTERSIGN_METRICS_TOKEN is set)
// would be public wherever the proxy is. It gets a port of its own, published nowhere, that a
// Prometheus on the Compose network scrapes (as infra/k8s does).

const ROOT = path.resolve(import.meta.dirname, '..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { environment?: Record<string, string>; ports?: string[]; expose?: string[]; healthcheck?: { test: string[] } }>;
};

describe('docker-compose.yml: /metrics', () => {
  it('is served on a port of its own that is not published, away from the port the proxy forwards', () => {
    const service = compose.services.countersign!;
    const env = service.environment!;
    const metricsPort = env.COUNTERSIGN_METRICS_PORT;
    expect(metricsPort).toMatch(/^\d+$/);
    expect(metricsPort).not.toBe(env.PORT);
    for (const published of service.ports ?? []) expect(published.split(':').at(-1)).not.toBe(metricsPort);
    expect(service.expose).toContain(metricsPort);
    // The health check stays on the API's port (the metrics port answers nothing else).
    expect(service.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${env.PORT}/readyz`);
  });
});
