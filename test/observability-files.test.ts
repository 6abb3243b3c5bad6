import fs from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { modules as defaultModules } from '../apps/server/src/modules.ts';
import { randomQueuePrefix } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

// The Grafana dashboard and the Prometheus alert rules in infra/observability: every query is
// valid PromQL, and every metric they reference is one a running countersign exports on
// /metrics (with every module registered), of a type the query suits (rate() of counters,
// delta() of gauges, _bucket/_count of histograms). A renamed metric breaks this test, not a
// pager at night.

const ROOT = path.resolve(import.meta.dirname, '..');
const DIR = path.join(ROOT, 'infra', 'observability');
/** Series Prometheus makes itself, not the service. */
const PROMETHEUS_OWN = new Set(['up']);

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const dashboard = JSON.parse(fs.readFileSync(path.join(DIR, 'countersign-dashboard.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
};
const alertFile = parse(fs.readFileSync(path.join(DIR, 'countersign-alerts.yaml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const rules = alertFile.groups.flatMap((g) => g.rules);

/** Every query, with where it comes from; Grafana's own variables replaced by what they become. */
const queries: { where: string; expr: string }[] = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr.replaceAll('$__rate_interval', '5m') }))),
  ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
];

interface Reference {
  where: string;
  metric: string;
  /** The function the selector is the argument of (rate, increase, delta…), if any. */
  fn: string | undefined;
}

function analyse(where: string, expr: string): { errors: string[]; references: Reference[] } {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const references: Reference[] = [];
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) errors.push(`${where}: syntax error at ${ref.from} in ${expr}`);
      if (ref.name === 'VectorSelector') {
        const identifier = ref.node.getChild('Identifier');
        if (identifier) references.push({ where, metric: expr.slice(identifier.from, identifier.to), fn: enclosingFunction(ref.node, expr) });
      }
    },
  });
  return { errors, references };
}

function enclosingFunction(selector: SyntaxNode, expr: string): string | undefined {
  let node: SyntaxNode | null = selector.parent;
  if (node?.name === 'MatrixSelector') node = node.parent;
  while (node && node.name === 'FunctionCallBody') node = node.parent;
  if (node?.name !== 'FunctionCall') return undefined;
  const id = node.getChild('FunctionIdentifier');
  return id ? expr.slice(id.from, id.to) : undefined;
}

const analysed = queries.map((q) => analyse(q.where, q.expr));
const references = analysed.flatMap((a) => a.references);
// The job variable's query is Grafana's label_values(metric, label).
for (const variable of dashboard.templating.list) {
  const definition = variable.definition ?? '';
  const found = /^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*),\s*[a-zA-Z_]+\)$/.exec(definition);
  if (variable.type !== 'query') continue;
  if (!found) throw new Error(`dashboard variable ${variable.name}: expected label_values(metric, label), got ${definition}`);
  references.push({ where: `variable ${variable.name}`, metric: found[1]!, fn: undefined });
}

describe('infra/observability files', () => {
  it('every dashboard and alert query is valid PromQL', () => {
    expect(queries.length).toBeGreaterThan(20);
    expect(analysed.flatMap((a) => a.errors)).toEqual([]);
    // The parser does flag bad PromQL (the check can fail).
    expect(analyse('probe', 'sum(rate(countersign_votes_total[5m])').errors).not.toEqual([]);
  });

  it('the dashboard is importable: unique ids, the data source variable everywhere, panels within the grid and not overlapping', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'job']));
    const cells = new Map<string, string>();
    for (const panel of panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.get(`${i},${j}`), `${panel.title} overlaps`).toBeUndefined();
          cells.set(`${i},${j}`, panel.title);
        }
      }
      if (panel.type === 'row') continue;
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr, panel.title).toContain('job=~"$job"');
    }
  });

  it('the alert rules are complete: a severity, a summary and a description each, unique names', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['CountersignActionPendingTooLong', 'CountersignOutboxLagging', 'CountersignChannelErrors', 'CountersignArtifactWriteFailures']),
    );
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Countersign[A-Z][A-Za-z]+$/);
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toEqual(expect.any(String));
      expect(rule.annotations.description, rule.alert).toEqual(expect.any(String));
      if (rule.for !== undefined) expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(Object.keys(rule).sort(), rule.alert).toEqual(expect.arrayContaining(['alert', 'expr', 'labels', 'annotations']));
    }
  });
});

describe('metrics the dashboard and alerts reference', () => {
  let t: TestService | undefined;
  let types = new Map<string, string>();

  beforeAll(async () => {
    t = await startTestService({ modules: defaultModules, env: { COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix() } });
    const res = await t.api('GET', '/metrics');
    expect(res.status).toBe(200);
    types = new Map([...res.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  /** The metric a series name belongs to, and its type: `x_bucket` → histogram `x`. */
  function typeOf(series: string): { metric: string; type: string | undefined; suffix: string } {
    if (types.has(series)) return { metric: series, type: types.get(series), suffix: '' };
    const m = /^(.*)_(bucket|count|sum)$/.exec(series);
    if (m && ['histogram', 'summary'].includes(types.get(m[1]!) ?? '')) return { metric: m[1]!, type: types.get(m[1]!), suffix: m[2]! };
    return { metric: series, type: undefined, suffix: '' };
  }

  it('every one exists on /metrics of a service with every module', () => {
    const missing = [...new Set(references.filter((r) => !PROMETHEUS_OWN.has(r.metric) && typeOf(r.metric).type === undefined).map((r) => r.metric))].sort();
    expect(missing).toEqual([]);
  });

  it('each is used as its type allows: rates of counters and histogram series, deltas of gauges', () => {
    const misuse: string[] = [];
    for (const ref of references) {
      if (PROMETHEUS_OWN.has(ref.metric)) continue;
      const { type, suffix } = typeOf(ref.metric);
      if (type === undefined) continue; // reported by the test above
      if (type === 'histogram' && suffix === '') misuse.push(`${ref.where}: ${ref.metric} is a histogram; query _bucket, _count or _sum`);
      const counting = type === 'counter' || suffix === 'bucket' || suffix === 'count' || suffix === 'sum';
      if ((ref.fn === 'rate' || ref.fn === 'increase' || ref.fn === 'irate') && !counting) misuse.push(`${ref.where}: ${ref.fn}() of ${type} ${ref.metric}`);
      if ((ref.fn === 'delta' || ref.fn === 'deriv') && type !== 'gauge') misuse.push(`${ref.where}: ${ref.fn}() of ${type} ${ref.metric}`);
      if (type === 'counter' && ref.fn === undefined) misuse.push(`${ref.where}: counter ${ref.metric} read raw (use rate or increase)`);
    }
    expect(misuse).toEqual([]);
  });
});
