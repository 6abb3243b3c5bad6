import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkVariableNames, KNOWN_VARIABLES, VARIABLE_FAMILIES } from '../src/index.ts';

// The list of COUNTERSIGN_ variables is what decides that a name is misspelt, so it must be
// exactly the names the sources read: one missing would stop a service that sets it (when it is
// close to another), one left over would let its misspelling through.

const root = path.resolve(import.meta.dirname, '..', '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'generated') out.push(...sourceFiles(full));
    else if (entry.isFile() && /\.(ts|mjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}

function namesInSources(): Set<string> {
  const names = new Set<string>();
  for (const group of ['apps', 'packages', 'modules']) {
    for (const pkg of fs.readdirSync(path.join(root, group))) {
      const src = path.join(root, group, pkg, 'src');
      if (!fs.existsSync(src)) continue;
      for (const file of sourceFiles(src)) for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bCOUNTERSIGN_[A-Z0-9_]+\b/g)) names.add(m[0]);
    }
  }
  // The example of a misspelling in env.ts's comment, and the families' own prefixes.
  names.delete('COUNTERSIGN_METRICS_TOKNE');
  for (const family of VARIABLE_FAMILIES) names.delete(family);
  return names;
}

describe('known COUNTERSIGN_ variables', () => {
  it('are exactly the names the sources read', () => {
    expect([...KNOWN_VARIABLES].sort()).toEqual([...namesInSources()].sort());
  });

  it('a near miss stops the service naming the setting, never the value; other unknown names are returned', () => {
    expect(() => checkVariableNames({ COUNTERSIGN_METRICS_TOKNE: 'hunter2-secret', COUNTERSIGN_ROLE: 'api' })).toThrow(/did you mean COUNTERSIGN_METRICS_TOKEN\?\n {2}→ at COUNTERSIGN_METRICS_TOKNE/);
    try {
      checkVariableNames({ COUNTERSIGN_METRICS_TOKNE: 'hunter2-secret' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
    expect(checkVariableNames({ COUNTERSIGN_ROLE: 'api', COUNTERSIGN_EXECUTOR_SECRET_BILLING: 'x', COUNTERSIGN_SOMETHING_ELSE_ENTIRELY: '1', PATH: '/bin' })).toEqual([{ name: 'COUNTERSIGN_SOMETHING_ELSE_ENTIRELY' }]);
  });

  it('only a near miss of a setting that fails open when missing, itself unset, stops; the others are returned with the likely setting', () => {
    // The operator's own short names, and plurals of settings that fail closed, only warn.
    const own = checkVariableNames({ COUNTERSIGN_ZONE: 'eu', COUNTERSIGN_RULE: 'x', COUNTERSIGN_ROLES: 'api', COUNTERSIGN_UID: '1' });
    expect(own).toEqual([
      { name: 'COUNTERSIGN_ROLES', suggestion: 'COUNTERSIGN_ROLE' },
      { name: 'COUNTERSIGN_RULE', suggestion: 'COUNTERSIGN_ROLE' },
      { name: 'COUNTERSIGN_UID', suggestion: 'COUNTERSIGN_URL' },
      { name: 'COUNTERSIGN_ZONE', suggestion: 'COUNTERSIGN_ROLE' },
    ]);
    expect(() => checkVariableNames({ COUNTERSIGN_METRICS_PROT: '9090' })).toThrow(/did you mean COUNTERSIGN_METRICS_PORT\?/);
    // The real one set beside it: a stray, not the setting it resembles.
    expect(checkVariableNames({ COUNTERSIGN_METRICS_TOKEN: 't'.repeat(32), COUNTERSIGN_METRICS_TOKNE: 'x' })).toEqual([{ name: 'COUNTERSIGN_METRICS_TOKNE', suggestion: 'COUNTERSIGN_METRICS_TOKEN' }]);
  });

  it('passes over what Kubernetes service links inject (a Service named countersign-db or countersign-metric)', () => {
    const links = (service: string, port: number) => {
      const p = service.toUpperCase().replace(/-/g, '_');
      const at = `tcp://10.96.0.12:${port}`;
      return { [`${p}_SERVICE_HOST`]: '10.96.0.12', [`${p}_SERVICE_PORT`]: String(port), [`${p}_PORT`]: at, [`${p}_PORT_${port}_TCP`]: at, [`${p}_PORT_${port}_TCP_PROTO`]: 'tcp', [`${p}_PORT_${port}_TCP_PORT`]: String(port), [`${p}_PORT_${port}_TCP_ADDR`]: '10.96.0.12' };
    };
    expect(checkVariableNames({ ...links('countersign-db', 5432), ...links('countersign-metric', 9090) })).toEqual([]);
  });
});
