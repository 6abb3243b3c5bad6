import fs from 'node:fs';
import path from 'node:path';
import { DCLinter } from 'dclint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml checked offline (no container engine here): against the Compose
// Specification's JSON schema, which Compose v2 implements (through dclint, which ships the
// schema and lints the file), and for what makes `docker compose up` start in order and
// safely: health checks everywhere, dependencies that wait for health, the signing key as a
// secret file.

const ROOT = path.resolve(import.meta.dirname, '..');
const FILE = path.join(ROOT, 'docker-compose.yml');

interface Service {
  image?: string;
  restart?: string;
  command?: string[];
  build?: unknown;
  environment?: Record<string, string>;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
  depends_on?: Record<string, { condition: string }>;
  secrets?: string[];
  ports?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  volumes?: string[];
}
const compose = parse(fs.readFileSync(FILE, 'utf8')) as {
  name?: string;
  version?: string;
  services: Record<string, Service>;
  secrets: Record<string, { file?: string; environment?: string }>;
};

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification and clean of lint errors', () => {
    const linter = new DCLinter({
      rules: {
        // Ordering of keys and services is taste; everything else stays on.
        'service-keys-order': 0,
        'services-alphabetical-order': 0,
        'top-level-properties-order': 0,
        'require-quotes-in-ports': [1, { quoteType: 'double' }],
      },
      quiet: false,
      debug: false,
      exclude: [],
    });
    const [result] = linter.lintFiles([FILE], false);
    expect(result!.messages.map((m: { rule: string; message: string }) => `${m.rule}: ${m.message}`)).toEqual([]);
  });

  it('the linter does catch a file Compose would reject (the check can fail)', () => {
    const bad = path.join(ROOT, '.countersign', `bad-compose-${process.pid}.yml`);
    fs.mkdirSync(path.dirname(bad), { recursive: true });
    fs.writeFileSync(bad, 'services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: service_happy\n');
    try {
      const [result] = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] }).lintFiles([bad], false);
      expect(result!.messages.map((m: { rule: string }) => m.rule)).toContain('invalid-schema');
    } finally {
      fs.rmSync(bad, { force: true });
    }
  });

  it('uses the Compose v2 form: a project name, no obsolete version key', () => {
    expect(compose.version).toBeUndefined();
    expect(compose.name).toBe('countersign');
  });

  it('health-checks every long-running service, and starts countersign only once Postgres and Redis are healthy and migrated', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      // A one-shot service is awaited to completion, not to health.
      if (service.restart === 'no') continue;
      expect(service.healthcheck?.test[0], name).toMatch(/^CMD(-SHELL)?$/);
      expect(service.healthcheck?.interval, name).toBeDefined();
      expect(service.healthcheck?.retries, name).toBeGreaterThan(0);
    }
    expect(compose.services.countersign!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    expect(compose.services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    // countersign's own check asks /readyz with the image's node (there is no curl in it).
    expect(compose.services.countersign!.healthcheck!.test.join(' ')).toMatch(/^CMD node -e .*http:\/\/127\.0\.0\.1:8080\/readyz/);
    expect(compose.services.countersign!.environment!.PORT).toBe('8080');
  });

  it('mounts the signing key and the webhook master as secret files, never environment variables', () => {
    const service = compose.services.countersign!;
    expect(service.secrets).toEqual(['countersign_signing_key', 'countersign_webhook_secret']);
    // A read-only container cannot generate a webhook master of its own: it is mounted.
    expect(service.environment!.COUNTERSIGN_WEBHOOK_SECRET_FILE).toBe('/run/secrets/countersign_webhook_secret');
    expect(service.environment!.COUNTERSIGN_WEBHOOK_SECRET).toBeUndefined();
    expect(compose.secrets.countersign_signing_key!.file).toMatch(/signing-key\.pem\}?$/);
    expect(service.environment!.COUNTERSIGN_SIGNING_KEY_FILE).toBe('/run/secrets/countersign_signing_key');
    expect(service.environment!.COUNTERSIGN_SIGNING_KEY).toBeUndefined();
    // The default secret location is never committed.
    const gitignore = fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n');
    expect(gitignore).toContain('/secrets/');
  });

  it('migrates as the schema owner in a one-shot service; countersign connects as its least-privileged login', () => {
    const migrate = compose.services.migrate!;
    const service = compose.services.countersign!;
    expect(migrate.command).toEqual(['node', 'dist/apps/server/src/migrate.js']);
    const user = (url: string | undefined) => (url ? decodeURIComponent(new URL(url.replace(/\$\{[^}]*\}/g, 'x')).username) : undefined);
    expect(user(migrate.environment!.MIGRATION_DATABASE_URL)).toBe(compose.services.postgres!.environment!.POSTGRES_USER);
    expect(user(migrate.environment!.DATABASE_URL)).toBe('countersign_app');
    expect(service.environment!.DATABASE_URL).toBe(migrate.environment!.DATABASE_URL);
    expect(service.environment!.COUNTERSIGN_SKIP_MIGRATIONS).toBe('1');
    // The owner's password never reaches the long-running service.
    expect(Object.values(service.environment!).some((value) => /\/\/countersign:/.test(value))).toBe(false);
    expect(migrate.read_only).toBe(true);
    expect(migrate.cap_drop).toEqual(['ALL']);
  });

  it('runs countersign read-only, without capabilities, reachable from this host only', () => {
    const service = compose.services.countersign!;
    expect(service.read_only).toBe(true);
    expect(service.tmpfs).toEqual(['/tmp']);
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.security_opt).toContain('no-new-privileges:true');
    expect(service.ports).toEqual(['127.0.0.1:8080:8080']);
    for (const other of ['postgres', 'redis', 'migrate']) expect(compose.services[other]!.ports, other).toBeUndefined();
    expect(service.volumes).toEqual(['./config:/app/config:ro']);
  });
});
