import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensureKubectl } from '../packages/devstack/src/kubectl-install.ts';

// What a rollout or a scale-out does to running pods, read from infra/k8s rendered offline by
// `kubectl kustomize` (test/k8s-manifests.test.ts checks the objects themselves). Each check
// here is a way an operator's `kubectl apply` would otherwise drop traffic or skip migrations.

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const BASE = path.join(ROOT, 'infra', 'k8s', 'base');

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec?: any;
  data?: Record<string, string>;
}

let objects: K8sObject[] = [];

beforeAll(async () => {
  const kubectl = ensureKubectl((line) => process.stderr.write(`${line}\n`));
  const { stdout } = await run(kubectl, ['kustomize', BASE], { maxBuffer: 16 * 1024 * 1024 });
  objects = parseAllDocuments(stdout).map((doc) => doc.toJS() as K8sObject);
}, 600_000);

const deployments = () => objects.filter((o) => o.kind === 'Deployment');

describe('infra/k8s: rolling out and scaling', () => {
  it('leaves the replica count of every autoscaled Deployment to its autoscaler', () => {
    // A `replicas` in the manifest is re-applied by every `kubectl apply -k .`: an api scaled
    // out to 8 pods under load would be cut back to 2 at each rollout (server-side apply would
    // refuse with a conflict instead). Kubernetes' HPA documentation says to leave it out.
    const autoscaled = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name);
    expect(autoscaled.sort()).toEqual(['countersign-api', 'countersign-worker']);
    for (const deployment of deployments()) {
      expect(autoscaled, deployment.metadata.name).toContain(deployment.metadata.name);
      expect(deployment.spec.replicas, `${deployment.metadata.name} sets spec.replicas`).toBeUndefined();
    }
  });

  it('keeps serving while endpoints are withdrawn, and gives the process time to drain after SIGTERM', () => {
    // Kubernetes sends SIGTERM while the Service's endpoints and the ingress are still being
    // updated: a process that stops listening at once refuses the requests still routed to it.
    // A preStop pause lets them drain away first; the grace period covers the pause plus the
    // process's own drain (in-flight requests finish, long-polls are answered, jobs released).
    for (const deployment of deployments()) {
      const spec = deployment.spec.template.spec;
      const [container] = spec.containers;
      const where = deployment.metadata.name;
      const pause = container.lifecycle?.preStop?.exec?.command as string[] | undefined;
      expect(pause, `${where} has no preStop pause`).toBeDefined();
      // The image is node:*-slim (Debian): coreutils' sleep is there, no shell needed.
      expect(pause![0], where).toBe('sleep');
      const seconds = Number(pause![1]);
      expect(seconds, where).toBeGreaterThanOrEqual(5);
      expect(spec.terminationGracePeriodSeconds - seconds, `${where}: grace period left to drain`).toBeGreaterThanOrEqual(20);
    }
    expect(fs.readFileSync(path.join(ROOT, 'infra', 'Dockerfile'), 'utf8')).toMatch(/^FROM node:\d+-slim$/m);
  });

  it('the documented rollout waits for this release\'s migration Job, never a finished one from before', () => {
    // A Job's pod template is immutable: applying a new image onto last release's Job (kept a
    // day by ttlSecondsAfterFinished) fails, and `kubectl wait --for=condition=complete` then
    // returns at once on the old, complete Job: the new pods would start on the old schema.
    const readme = fs.readFileSync(path.join(ROOT, 'infra', 'k8s', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Rolling out a version'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const commands = block.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
    const del = commands.findIndex((c) => /^kubectl (-n \S+ )?delete job countersign-migrate\b.*--ignore-not-found/.test(c));
    const firstApply = commands.findIndex((c) => c.startsWith('kubectl apply'));
    const wait = commands.findIndex((c) => /kubectl .*wait .*job\/countersign-migrate/.test(c));
    expect(del, 'the rollout deletes the previous migration Job').toBeGreaterThanOrEqual(0);
    expect(del).toBeLessThan(firstApply);
    expect(firstApply).toBeLessThan(wait);
    expect(commands.lastIndexOf('kubectl apply -k .')).toBeGreaterThan(wait);
  });
});

describe('infra/k8s: /metrics stays inside the cluster', () => {
  it('serves /metrics on a port of its own that the Service (so the ingress) never reaches, open only to the monitoring namespace', () => {
    // On the API's port, /metrics would be published by the Ingress README suggests in front
    // of countersign-api: decision counts per rule, pending actions and queue depths for anyone
    // on the internet (the service leaves /metrics open unless COUNTERSIGN_METRICS_TOKEN is set).
    const settings = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('countersign-settings'))!.data!;
    const metricsPort = Number(settings.COUNTERSIGN_METRICS_PORT);
    expect(metricsPort).toBeGreaterThan(0);
    expect(metricsPort).not.toBe(Number(settings.PORT));
    for (const deployment of deployments()) {
      const template = deployment.spec.template;
      const [container] = template.spec.containers;
      const ports = container.ports as { name: string; containerPort: number }[];
      expect(ports.find((p) => p.name === 'metrics')?.containerPort, deployment.metadata.name).toBe(metricsPort);
      expect(template.metadata.annotations['prometheus.io/port'], deployment.metadata.name).toBe(String(metricsPort));
      // Probes stay on the API's port: the metrics port answers nothing else.
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) expect(container[probe].httpGet.port).toBe('http');
    }
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'countersign-api')!;
    for (const port of service.spec.ports as { targetPort: string | number }[]) expect([metricsPort, 'metrics']).not.toContain(port.targetPort);

    // Ingress rules: the metrics port only from the namespace labelled for scraping; nothing
    // open to every namespace but the API's own port.
    for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy' && o.spec.ingress)) {
      for (const rule of policy.spec.ingress as { from: { namespaceSelector?: { matchLabels?: Record<string, string> } }[]; ports: { port: string | number }[] }[]) {
        const openToAll = rule.from.some((f) => f.namespaceSelector && Object.keys(f.namespaceSelector.matchLabels ?? {}).length === 0);
        const ports = rule.ports.map((p) => p.port);
        if (openToAll) expect(ports, policy.metadata.name).toEqual(['http']);
        if (ports.includes('metrics') || ports.includes(metricsPort)) {
          expect(rule.from, policy.metadata.name).toEqual([{ namespaceSelector: { matchLabels: { 'countersign/scrape-metrics': 'true' } } }]);
        }
      }
    }
    const scraped = objects
      .filter((o) => o.kind === 'NetworkPolicy' && o.spec.ingress)
      .flatMap((o) => (o.spec.ingress as { ports: { port: string }[] }[]).flatMap((r) => r.ports.map((p) => `${o.metadata.name}:${p.port}`)));
    expect(scraped).toEqual(expect.arrayContaining(['countersign-api-ingress:metrics', 'countersign-worker-ingress:metrics']));
  });
});
