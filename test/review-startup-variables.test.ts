import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { checkVariableNames } from '@countersign/config';
import { requireWebhookMaster } from '../apps/server/src/startup/webhook-master.ts';

/** A working folder holding no webhook master of an earlier start. */
const EMPTY_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-review-'));
afterAll(() => fs.rmSync(EMPTY_DIR, { recursive: true, force: true }));

// Review of the startup checks (deploy review s5): environments a legitimate deployment has
// that the new checks must let through, and ones they must refuse.

/** What Kubernetes injects into every pod of the namespace for a Service (enableServiceLinks defaults to true). */
function serviceLinks(service: string, port: number): Record<string, string> {
  const p = service.toUpperCase().replace(/-/g, '_');
  const at = `tcp://10.96.0.12:${port}`;
  return {
    [`${p}_SERVICE_HOST`]: '10.96.0.12',
    [`${p}_SERVICE_PORT`]: String(port),
    [`${p}_PORT`]: at,
    [`${p}_PORT_${port}_TCP`]: at,
    [`${p}_PORT_${port}_TCP_PROTO`]: 'tcp',
    [`${p}_PORT_${port}_TCP_PORT`]: String(port),
    [`${p}_PORT_${port}_TCP_ADDR`]: '10.96.0.12',
  };
}

describe('review: COUNTERSIGN_ variable names at startup', () => {
  it('service links of the shipped Service (countersign-api) and of release-named ones are passed over', () => {
    expect(checkVariableNames(serviceLinks('countersign-api', 80))).toEqual([]);
    expect(checkVariableNames(serviceLinks('countersign', 8080))).toEqual([]);
    expect(checkVariableNames(serviceLinks('countersign-postgresql', 5432))).toEqual([]);
  });

  it('the client variables that share a service environment are known (CLI, SDK, MCP proxy)', () => {
    expect(checkVariableNames({ COUNTERSIGN_URL: 'https://cs.internal', COUNTERSIGN_TOKEN: 'x', COUNTERSIGN_API_KEY: 'x', COUNTERSIGN_MCP_PROXY_TOKEN: 'x' })).toEqual([]);
  });

  it('a near miss of a fail-open setting stops, in any letter case; the value is never named', () => {
    expect(() => checkVariableNames({ countersign_metrics_token: 'hunter2-value' })).toThrow(/did you mean COUNTERSIGN_METRICS_TOKEN\?/);
    expect(() => checkVariableNames({ COUNTERSIGN_METRICS_TOKEN_: 'hunter2-value' })).toThrow(/did you mean COUNTERSIGN_METRICS_TOKEN\?/);
    try {
      checkVariableNames({ COUNTERSIGN_METRCS_TOKEN: 'hunter2-value' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

describe('review: the webhook master secret is required without a keys folder', () => {
  it('an empty secret does not count', () => {
    expect(() => requireWebhookMaster({ COUNTERSIGN_WEBHOOK_SECRET: '' }, EMPTY_DIR)).toThrow(/one webhook master secret/);
    expect(() => requireWebhookMaster({ COUNTERSIGN_WEBHOOK_SECRET_FILE: '' }, EMPTY_DIR)).toThrow(/one webhook master secret/);
  });
});

const root = path.resolve(import.meta.dirname, '..');

/** The environment (names; values where written) a Deployment's container starts with: the settings ConfigMap and its env. */
function k8sEnvironment(file: string): Record<string, string> {
  const kustomization = parseYaml(fs.readFileSync(path.join(root, 'infra/k8s/base/kustomization.yaml'), 'utf8'));
  const env: Record<string, string> = { NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '8080' }; // the image's ENV
  for (const literal of kustomization.configMapGenerator[0].literals as string[]) {
    const at = literal.indexOf('=');
    env[literal.slice(0, at)] = literal.slice(at + 1);
  }
  const deployment = parseYaml(fs.readFileSync(path.join(root, 'infra/k8s/base', file), 'utf8'));
  const container = deployment.spec.template.spec.containers[0];
  for (const e of container.env as { name: string; value?: string; valueFrom?: { secretKeyRef: { optional?: boolean } } }[]) {
    // Optional secrets may be absent; required ones are there (a stand-in value).
    if (e.valueFrom?.secretKeyRef.optional) continue;
    env[e.name] = e.value ?? 'x'.repeat(48);
  }
  return env;
}

describe('review: the shipped deployments start under the new rules', () => {
  it('the Kubernetes api and worker pods: no stray or near-miss name, a webhook master given, migrations left to the Job, no service links', () => {
    for (const file of ['api-deployment.yaml', 'worker-deployment.yaml']) {
      const env = k8sEnvironment(file);
      expect(checkVariableNames(env), file).toEqual([]);
      expect(() => requireWebhookMaster(env, EMPTY_DIR), file).not.toThrow();
      expect(env.COUNTERSIGN_SKIP_MIGRATIONS, file).toBe('1');
      // Service links would add COUNTERSIGN_<SERVICE>_PORT=tcp://… names (countersign-db → a near miss of COUNTERSIGN_DB_POOL).
      expect(parseYaml(fs.readFileSync(path.join(root, 'infra/k8s/base', file), 'utf8')).spec.template.spec.enableServiceLinks, file).toBe(false);
    }
  });

  it('Docker Compose: no stray or near-miss name, a webhook master given, migrations left to the migrate service', () => {
    const compose = parseYaml(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'));
    const env = compose.services.countersign.environment as Record<string, string>;
    expect(checkVariableNames(env)).toEqual([]);
    expect(() => requireWebhookMaster(env, EMPTY_DIR)).not.toThrow();
    expect(env.COUNTERSIGN_SKIP_MIGRATIONS).toBe('1');
    expect(compose.services.countersign.depends_on.migrate.condition).toBe('service_completed_successfully');
  });
});
