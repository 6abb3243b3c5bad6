import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensureKubectl } from '../packages/devstack/src/kubectl-install.ts';
import { emptyDatabase, serviceUrlOf, type TestDatabase } from './support/database.ts';

// infra/k8s rendered offline by `kubectl kustomize` (no cluster), every object checked against
// the Kubernetes API schemas (kubernetes-models: types, required fields, formats) and, through
// the TypeScript compiler, against its interfaces (a misspelt field is an error, where the
// JSON schemas would let it through). Then what an operator relies on: non-root, read-only root
// filesystem, probes, requests, Secrets referenced not inlined, selectors that select, and a
// migration Job whose command really migrates.

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const BASE = path.join(ROOT, 'infra', 'k8s', 'base');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: unknown;
}

let objects: K8sObject[] = [];
let kustomizeVersion = '';

beforeAll(async () => {
  // Installed with apt-get on a fresh machine (Debian ships it as kubernetes-client).
  const kubectl = ensureKubectl((line) => process.stderr.write(`${line}\n`));
  const version = await run(kubectl, ['version', '--client'], { env: { ...process.env, KUBECONFIG: '/dev/null' } }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  kustomizeVersion = version.stdout.trim();
  const { stdout } = await run(kubectl, ['kustomize', BASE], { maxBuffer: 16 * 1024 * 1024 });
  objects = parseAllDocuments(stdout).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as K8sObject;
  });
}, 600_000);

const named = (kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found;
};
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const workloads = () => [...ofKind('Deployment'), ...ofKind('Job')];
const podSpec = (o: K8sObject) => o.spec.template.spec;
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** `apps/v1` + `Deployment` → the model module of kubernetes-models. */
function modelPath(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
}

describe('infra/k8s rendered by kubectl kustomize', () => {
  it('renders the api and worker Deployments, Service, autoscalers, disruption budgets, migration Job and network policies', () => {
    expect(kustomizeVersion).toMatch(/Client Version/);
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort();
    expect(kinds).toEqual(
      expect.arrayContaining([
        'ConfigMap/countersign-settings',
        'Deployment/countersign-api',
        'Deployment/countersign-worker',
        'HorizontalPodAutoscaler/countersign-api',
        'HorizontalPodAutoscaler/countersign-worker',
        'Job/countersign-migrate',
        'NetworkPolicy/countersign-default-deny',
        'PodDisruptionBudget/countersign-api',
        'PodDisruptionBudget/countersign-worker',
        'Service/countersign-api',
        'ServiceAccount/countersign',
      ]),
    );
  });

  it('every object validates against the Kubernetes API schema', async () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) {
      const module = (await import(modelPath(object.apiVersion, object.kind))) as Record<string, new (data: unknown) => { validate(): void }>;
      const Model = module[object.kind];
      expect(Model, `${object.apiVersion} ${object.kind} is not a Kubernetes API type`).toBeDefined();
      expect(() => new Model!(object).validate(), `${object.kind}/${object.metadata.name}`).not.toThrow();
    }
  });

  it('every field of every object is one the Kubernetes API defines (no misspelt field is silently ignored)', () => {
    const file = path.join(ROOT, '__k8s_manifests_check__.ts');
    const lines = objects.map((object, i) => {
      const type = `I${object.kind}`;
      return `import type { ${type} as T${i} } from '${modelPath(object.apiVersion, object.kind)}';\nexport const o${i} = ${JSON.stringify(object, null, 2)} satisfies T${i};`;
    });
    const diagnostics = typecheck(file, lines.join('\n'));
    expect(diagnostics).toEqual([]);
  }, 120_000);

  it('runs every container as non-root, without privileges, on a read-only root filesystem with a writable /tmp', () => {
    expect(workloads().length).toBe(3);
    for (const workload of workloads()) {
      const spec = podSpec(workload);
      const where = `${workload.kind}/${workload.metadata.name}`;
      expect(spec.securityContext, where).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext.runAsUser, where).toBeGreaterThan(0);
      expect(spec.automountServiceAccountToken, where).toBe(false);
      expect(spec.serviceAccountName, where).toBe('countersign');
      expect(spec.hostNetwork ?? false, where).toBe(false);
      expect(spec.initContainers ?? [], where).toEqual([]);
      for (const container of spec.containers) {
        expect(container.securityContext, where).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.securityContext.privileged ?? false, where).toBe(false);
        // tsx and Node write their scratch files under /tmp: an emptyDir, not the image.
        const tmp = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
        expect(tmp, where).toBeDefined();
        expect(spec.volumes.find((v: { name: string }) => v.name === tmp.name), where).toMatchObject({ emptyDir: {} });
        // Everything else mounted is read-only.
        for (const mount of container.volumeMounts.filter((m: { mountPath: string }) => m.mountPath !== '/tmp')) {
          expect(mount.readOnly, `${where} ${mount.mountPath}`).toBe(true);
        }
      }
    }
    expect(ofKind('ServiceAccount')).toEqual([expect.objectContaining({ automountServiceAccountToken: false })]);
  });

  it('requests CPU and memory for every container and caps memory', () => {
    for (const workload of workloads()) {
      for (const container of podSpec(workload).containers) {
        const where = `${workload.kind}/${workload.metadata.name}`;
        expect(container.resources.requests, where).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.resources.limits?.memory, where).toEqual(expect.any(String));
      }
    }
  });

  it('probes liveness on /healthz and readiness on /readyz, on the port the process listens on', () => {
    const settings = ofKind('ConfigMap').find((c) => c.metadata.name.startsWith('countersign-settings'))!;
    for (const deployment of ofKind('Deployment')) {
      const [container] = podSpec(deployment).containers;
      const where = deployment.metadata.name;
      const http = container.ports.find((p: { name: string }) => p.name === 'http');
      expect(http.containerPort, where).toBe(Number(settings.data!.PORT));
      expect(settings.data!.HOST, where).toBe('0.0.0.0');
      expect(container.livenessProbe.httpGet, where).toEqual({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe.httpGet, where).toEqual({ path: '/readyz', port: 'http' });
      expect(container.startupProbe.httpGet, where).toEqual({ path: '/healthz', port: 'http' });
    }
  });

  it('runs one role per Deployment from the same pod template, with migrations left to the Job', () => {
    const roleOf = (name: string) => {
      const env = podSpec(named('Deployment', name)).containers[0].env as { name: string; value?: string }[];
      return Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    };
    expect(roleOf('countersign-api')).toMatchObject({ COUNTERSIGN_ROLE: 'api', COUNTERSIGN_SKIP_MIGRATIONS: '1' });
    expect(roleOf('countersign-worker')).toMatchObject({ COUNTERSIGN_ROLE: 'worker', COUNTERSIGN_SKIP_MIGRATIONS: '1' });
    // Apart from names, labels and the role, the two pod templates are the same: a setting or
    // a Secret added to one and forgotten in the other would break one role only.
    const normalise = (name: string, role: string) =>
      JSON.stringify(named('Deployment', name).spec)
        .replaceAll(`"COUNTERSIGN_ROLE","value":"${role}"`, '"COUNTERSIGN_ROLE","value":"ROLE"')
        .replaceAll(`"app.kubernetes.io/component":"${role}"`, '"app.kubernetes.io/component":"ROLE"');
    expect(normalise('countersign-worker', 'worker')).toBe(normalise('countersign-api', 'api'));
  });

  it('sets only variables the service reads, and takes every secret from a Secret', () => {
    const sources = sourceText();
    const looksSecret = (name: string) => /URL$|TOKEN|SECRET|PASSWORD|KEY$/.test(name) && name !== 'PUBLIC_URL';
    const settings = ofKind('ConfigMap').find((c) => c.metadata.name.startsWith('countersign-settings'))!.data!;
    const names = new Set<string>(Object.keys(settings));
    for (const name of names) expect(looksSecret(name), `${name} is a secret in a ConfigMap`).toBe(false);
    for (const workload of workloads()) {
      for (const container of podSpec(workload).containers) {
        for (const e of container.env as { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }[]) {
          names.add(e.name);
          if (looksSecret(e.name)) {
            expect(e.value, `${e.name} must come from a Secret`).toBeUndefined();
            expect(e.valueFrom?.secretKeyRef?.name, e.name).toMatch(/^countersign-/);
          }
        }
      }
    }
    // NODE_ENV is Node's own; everything else must be a name the code reads (a typo would be
    // silently ignored by the service).
    for (const name of [...names].filter((n) => n !== 'NODE_ENV')) {
      expect(new RegExp(`\\b${name}\\b`).test(sources), `${name} is read nowhere in apps/, modules/ or packages/`).toBe(true);
    }
    // No Secret objects in the manifests: their values never belong in a repository.
    expect(ofKind('Secret')).toEqual([]);
  });

  it('references the signing key and the Slack, Teams and console sign-in credentials from Secrets, those optional', () => {
    const api = podSpec(named('Deployment', 'countersign-api'));
    const container = api.containers[0];
    const refs = Object.fromEntries(
      (container.env as { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[])
        .filter((e) => e.valueFrom?.secretKeyRef)
        .map((e) => [e.name, e.valueFrom!.secretKeyRef!]),
    );
    expect(refs.DATABASE_URL).toEqual({ name: 'countersign-datastores', key: 'DATABASE_URL' });
    expect(refs.REDIS_URL).toEqual({ name: 'countersign-datastores', key: 'REDIS_URL' });
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_TEAM_ID']) {
      expect(refs[name], name).toEqual({ name: 'countersign-slack', key: name, optional: true });
    }
    for (const name of ['MICROSOFT_APP_ID', 'MICROSOFT_APP_TENANT_ID', 'MICROSOFT_APP_PASSWORD']) {
      expect(refs[name], name).toEqual({ name: 'countersign-teams', key: name, optional: true });
    }
    for (const name of ['COUNTERSIGN_OIDC_ISSUER', 'COUNTERSIGN_OIDC_CLIENT_ID', 'COUNTERSIGN_OIDC_CLIENT_SECRET']) {
      expect(refs[name], name).toEqual({ name: 'countersign-oidc', key: name, optional: true });
    }
    // The signing key is a file from a Secret volume (never an environment variable), at the
    // path COUNTERSIGN_SIGNING_KEY_FILE names, not world-readable (fsGroup lets the process read it).
    const settings = ofKind('ConfigMap').find((c) => c.metadata.name.startsWith('countersign-settings'))!.data!;
    expect(refs.COUNTERSIGN_SIGNING_KEY).toBeUndefined();
    const keyFile = settings.COUNTERSIGN_SIGNING_KEY_FILE!;
    const mount = container.volumeMounts.find((m: { mountPath: string }) => keyFile.startsWith(`${m.mountPath}/`));
    const volume = api.volumes.find((v: { name: string }) => v.name === mount.name);
    expect(volume.secret).toMatchObject({ secretName: 'countersign-signing-key', defaultMode: 0o400 });
    expect(volume.secret.items).toEqual([{ key: 'signing-key.pem', path: path.relative(mount.mountPath, keyFile) }]);
    // Policy and directory from the operator's ConfigMap, mounted as a folder so edits reach
    // the running process (a subPath mount would never change).
    for (const file of [settings.COUNTERSIGN_POLICY!, settings.COUNTERSIGN_DIRECTORY!]) {
      const configMount = container.volumeMounts.find((m: { mountPath: string }) => file.startsWith(`${m.mountPath}/`));
      expect(configMount.subPath).toBeUndefined();
      expect(api.volumes.find((v: { name: string }) => v.name === configMount.name).configMap).toEqual({ name: 'countersign-config' });
    }
  });

  it('selects the right pods from the Service, autoscalers, disruption budgets and network policies', () => {
    const api = named('Deployment', 'countersign-api');
    const worker = named('Deployment', 'countersign-worker');
    const apiPods = api.spec.template.metadata.labels;
    const workerPods = worker.spec.template.metadata.labels;
    expect(matches(api.spec.selector.matchLabels, apiPods)).toBe(true);
    expect(matches(worker.spec.selector.matchLabels, workerPods)).toBe(true);
    expect(matches(api.spec.selector.matchLabels, workerPods)).toBe(false);

    const service = named('Service', 'countersign-api');
    expect(matches(service.spec.selector, apiPods)).toBe(true);
    expect(matches(service.spec.selector, workerPods)).toBe(false);
    expect(service.spec.ports).toEqual([expect.objectContaining({ targetPort: 'http' })]);

    for (const deployment of [api, worker]) {
      const hpa = named('HorizontalPodAutoscaler', deployment.metadata.name);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      const pdb = named('PodDisruptionBudget', deployment.metadata.name);
      expect(matches(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
      // With at least two replicas, minAvailable 1 still lets a node drain.
      expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
    }

    // Default deny, for every countersign pod, both directions.
    const deny = named('NetworkPolicy', 'countersign-default-deny');
    expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(deny.spec.ingress).toBeUndefined();
    expect(deny.spec.egress).toBeUndefined();
    const migratePods = named('Job', 'countersign-migrate').spec.template.metadata.labels;
    for (const pods of [apiPods, workerPods, migratePods]) expect(matches(deny.spec.podSelector.matchLabels, pods)).toBe(true);
    // The migration Job reaches Postgres only.
    const migrateEgress = ofKind('NetworkPolicy').filter((p) => p.spec.policyTypes.includes('Egress') && p.spec.egress && matchesPolicy(p, migratePods));
    const ports = migrateEgress.flatMap((p) => p.spec.egress.flatMap((rule: { ports: { port: number }[] }) => rule.ports.map((x) => x.port)));
    expect(new Set(ports)).toEqual(new Set([53, 5432]));
    // The service reaches Postgres, Redis and HTTPS.
    const serviceEgress = ofKind('NetworkPolicy').filter((p) => p.spec.egress && matchesPolicy(p, apiPods) && matchesPolicy(p, workerPods));
    const servicePorts = serviceEgress.flatMap((p) => p.spec.egress.flatMap((rule: { ports: { port: number }[] }) => rule.ports.map((x) => x.port)));
    expect(new Set(servicePorts)).toEqual(new Set([53, 443, 5432, 6379]));
  });
});

describe('the migration Job', () => {
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.drop();
  });

  it('runs the image command with main replaced by migrate, as the database owner', () => {
    const job = named('Job', 'countersign-migrate');
    const container = podSpec(job).containers[0];
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(container.command).toEqual(imageCommand().map((part) => part.replace(/\bmain\.(ts|js)$/, 'migrate.$1')));
    expect(container.args).toBeUndefined();
    expect(container.env.find((e: { name: string }) => e.name === 'MIGRATION_DATABASE_URL').valueFrom.secretKeyRef).toEqual({
      name: 'countersign-datastores',
      key: 'MIGRATION_DATABASE_URL',
    });
    // The service's role, which the Job creates and checks (it never migrates with it).
    expect(container.env.find((e: { name: string }) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef).toEqual({
      name: 'countersign-datastores',
      key: 'DATABASE_URL',
    });
  });

  it('its entry point migrates an empty database, then finds nothing left to do', async () => {
    database = await emptyDatabase();
    const entry = [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'apps', 'server', 'src', 'migrate.ts')];
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, LOG_LEVEL: 'info' };
    const first = await run(process.execPath, entry, { cwd: ROOT, env });
    const applied = JSON.parse(first.stdout.trim().split('\n').at(-1)!) as { applied: string[] };
    const migrations = fs.readdirSync(path.join(ROOT, 'prisma', 'migrations'), { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(applied.applied).toHaveLength(migrations.length);
    const second = await run(process.execPath, entry, { cwd: ROOT, env });
    expect(JSON.parse(second.stdout.trim().split('\n').at(-1)!)).toMatchObject({ applied: [], msg: 'database schema already current' });
    // As the Job runs it: the owner migrates, then the service's login is made ready and checked.
    const asJob = await run(process.execPath, entry, { cwd: ROOT, env: { ...env, MIGRATION_DATABASE_URL: database.url, DATABASE_URL: serviceUrlOf(database.url) } });
    expect(JSON.parse(asJob.stdout.trim().split('\n').at(-1)!)).toMatchObject({ role: 'countersign_app', msg: 'service database login ready' });
    // A missing URL fails, without echoing anything secret.
    const bad = await run(process.execPath, entry, { cwd: ROOT, env: { PATH: env.PATH, DATABASE_URL: 'mysql://user:hunter2@db/x' } }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toContain('DATABASE_URL: must be a postgres:// URL');
    expect((bad as { stderr: string }).stderr).not.toContain('hunter2');
  }, 120_000);
});

function matchesPolicy(policy: K8sObject, labels: Record<string, string>): boolean {
  const selector = policy.spec.podSelector;
  if (selector.matchLabels && !matches(selector.matchLabels, labels)) return false;
  for (const e of (selector.matchExpressions ?? []) as { key: string; operator: string; values: string[] }[]) {
    if (e.operator !== 'In' || !e.values.includes(labels[e.key] ?? '')) return false;
  }
  return true;
}

/** What the image runs by default: ENTRYPOINT + CMD of infra/Dockerfile (exec form). */
function imageCommand(): string[] {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'infra', 'Dockerfile'), 'utf8');
  const last = (instruction: string): string[] => {
    const found = [...dockerfile.matchAll(new RegExp(`^${instruction}\\s+(\\[.*\\])\\s*$`, 'gm'))].at(-1);
    return found ? (JSON.parse(found[1]!) as string[]) : [];
  };
  const command = [...last('ENTRYPOINT'), ...last('CMD')];
  expect(command.at(-1)).toMatch(/\bmain\.(ts|js)$/);
  return command;
}

/** The source of everything that reads the environment: apps/, modules/ and packages/. */
function sourceText(): string {
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === 'generated' || entry.name === 'test') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) parts.push(fs.readFileSync(full, 'utf8'));
    }
  };
  for (const top of ['apps', 'modules', 'packages']) if (fs.existsSync(path.join(ROOT, top))) walk(path.join(ROOT, top));
  return parts.join('\n');
}

/** Type-checks one in-memory TypeScript file against the installed packages' declarations. */
function typecheck(file: string, text: string): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readSource = host.getSourceFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, text, language) : readSource(name, language, ...rest));
  host.fileExists = (name) => name === file || exists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `line ${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}
