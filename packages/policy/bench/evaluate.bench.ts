import { pathToFileURL } from 'node:url';
import { IntentSchema } from '@countersign/contracts';
import type { Actor, Intent } from '@countersign/contracts';
import { evaluate, loadPolicy } from '../src/index.ts';
import type { CompiledPolicy, EvaluateOptions, EvaluationInput } from '../src/index.ts';
import { channels } from '../test/helpers.ts';

// How long one verdict takes with a realistically sized policy. Every request pays this
// before anything else happens, so the target is p99 < 1 ms.
//   npx tsx packages/policy/bench/evaluate.bench.ts

const DOMAINS = ['environment', 'deployment', 'payment', 'data', 'iam', 'database', 'ticket', 'court', 'email', 'storage'];
const VERBS = ['create', 'delete', 'update', 'send', 'export', 'grant'];
const ENVIRONMENTS = ['production', 'staging', 'dev'];

/** A 50-rule policy shaped like real ones: type checks, has() guards, amounts, roles, time. */
export function benchPolicyText(): string {
  const rules: string[] = [];
  for (let i = 0; i < 50; i++) {
    // floor(i / 5): every condition shape (i % 5) is paired with every domain.
    const domain = DOMAINS[Math.floor(i / 5) % DOMAINS.length]!;
    const verb = VERBS[i % VERBS.length]!;
    const env = ENVIRONMENTS[i % ENVIRONMENTS.length]!;
    const kind = i % 5;
    let when: string;
    if (kind === 0) when = `action.type == "${domain}.${verb}" && has(context.environment) && context.environment == "${env}"`;
    else if (kind === 1) when = `action.type.startsWith("${domain}.") && has(action.params.amount) && action.params.amount > ${1000 * (i + 1)}`;
    else if (kind === 2) when = `action.type == "${domain}.${verb}" && "deployer" in actor.roles && (time.hour < 8 || time.hour >= 18)`;
    else if (kind === 3) when = `has(context.attributes.pii) && context.attributes.pii == true && action.type.endsWith(".${verb}")`;
    else when = `action.type in ["${domain}.${verb}", "${domain}.bulk-${verb}"] && actor.kind == "agent" && onBehalfOf != ""`;
    const outcome = i === 0 ? 'approve' : ['approve', 'escalate', 'refuse'][i % 3]!;
    const extra =
      outcome === 'escalate'
        ? `\n    requirement:\n      approvers: [{ role: role-${i % 7} }, { role: security }]\n      expiresIn: ${30 + i}m\n      channels: { slack: ["#c${i % 4}"], reminders: [10m] }`
        : outcome === 'refuse'
          ? `\n    override: { roles: [cto, role-${i % 3}] }`
          : '';
    rules.push(`  - id: rule-${i}\n    when: '${when}'\n    outcome: ${outcome}\n    reason: rule ${i}${extra}`);
  }
  rules.push(`  - id: reads\n    when: 'has(risk.class) && risk.class == "read"'\n    outcome: approve\n    reason: reads`);
  return `version: 1\nrules:\n${rules.slice(0, 50).join('\n')}\n`;
}

export function benchIntents(): Intent[] {
  const intents: Intent[] = [];
  for (let i = 0; i < 64; i++) {
    intents.push(
      IntentSchema.parse({
        action: {
          type: `${DOMAINS[i % DOMAINS.length]}.${VERBS[(i * 7) % VERBS.length]}`,
          resource: `res/${i}`,
          params: i % 2 ? { amount: 500 * i, currency: 'EUR', iban: 'DE00123' } : { name: `thing-${i}` },
        },
        ...(i % 3 ? { onBehalfOf: 'erin' } : {}),
        context: { ...(i % 4 ? { environment: ENVIRONMENTS[i % 3] } : {}), attributes: i % 5 === 0 ? { pii: true, team: 'x' } : { team: 'y' } },
        risk: { class: ['read', 'write', 'destructive', 'financial'][i % 4] },
        authority: i % 2 ? { changeTicket: `CHG-${i}` } : {},
        justification: 'routine maintenance',
      }),
    );
  }
  return intents;
}

interface Percentiles {
  p50Micros: number;
  p99Micros: number;
  meanMicros: number;
}

export interface GuardedFigure extends Percentiles {
  rules: number;
  /** p50 over the 50-rule policy's p50, same run: how much the extra rules cost. */
  p50OverFiftyRule: number;
}

const ACTORS: Actor[] = [
  { kind: 'agent', id: 'deploy-bot', roles: ['deployer'], owner: 'erin' },
  { kind: 'person', id: 'alice', roles: ['sre-lead', 'on-call'], owner: null },
];
const BASE = Date.parse('2026-01-05T00:00:00Z');

export function benchPolicy(iterations = 20_000): { rules: 50; p50Micros: number; p99Micros: number; meanMicros: number; guarded: GuardedFigure } {
  const policy = loadPolicy(benchPolicyText(), 'bench-policy.yaml', { channels });
  if (policy.rules.length !== 50) throw new Error(`bench policy has ${policy.rules.length} rules, expected 50`);
  const intents = benchIntents();
  const fifty = measure(policy, (i) => ({ intent: intents[i % intents.length]!, actor: ACTORS[i % ACTORS.length]!, now: new Date(BASE + (i % 48) * 1_800_000) }), iterations);
  const guarded = benchGuarded(1_000, iterations);
  return { rules: 50, ...fifty, guarded: { ...guarded, p50OverFiftyRule: Math.round((guarded.p50Micros / fifty.p50Micros) * 100) / 100 } };
}

/**
 * The shape real policies grow into: hundreds of rules, each guarded by equality on the action
 * type and resource (`action.type == "bench.slack" && action.resource == "res-42"`). Every
 * intent names one resource, so one rule matches (a few intents name none: no match).
 */
export function guardedPolicyText(rules: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rules; i++) {
    const when = `action.type == "bench.slack" && action.resource == "res-${i}"`;
    const extra =
      i % 2 === 0
        ? `\n    requirement:\n      approvers: [{ role: role-${i % 7} }]\n      expiresIn: 30m\n      channels: { slack: ["#c${i % 4}"], reminders: [10m] }`
        : '';
    lines.push(`  - id: guarded-${i}\n    when: '${when}'\n    outcome: ${i % 2 === 0 ? 'escalate' : 'approve'}\n    reason: guarded ${i}${extra}`);
  }
  return `version: 1\nrules:\n${lines.join('\n')}\n`;
}

/** p50/p99 of one verdict over a guarded policy of `rules` rules; `index: false` runs every rule's CEL. */
export function benchGuarded(rules: number, iterations = 20_000, options: EvaluateOptions = {}): Percentiles & { rules: number } {
  const policy = loadPolicy(guardedPolicyText(rules), `bench-guarded-${rules}.yaml`, { channels });
  const intents = Array.from({ length: 64 }, (_, i) =>
    IntentSchema.parse({
      action: { type: 'bench.slack', resource: `res-${(i * 37) % (rules + 4)}`, params: { text: `please ${i}` } },
      context: { environment: ENVIRONMENTS[i % 3] },
      risk: { class: 'write' },
    }),
  );
  return { rules, ...measure(policy, (i) => ({ intent: intents[i % intents.length]!, actor: ACTORS[i % ACTORS.length]!, now: new Date(BASE + (i % 48) * 1_800_000) }), iterations, options) };
}

function measure(policy: CompiledPolicy, input: (i: number) => EvaluationInput, iterations: number, options: EvaluateOptions = {}): Percentiles {
  // Warm up so the JIT has compiled the hot paths before we measure.
  for (let i = 0; i < Math.min(5_000, iterations); i++) evaluate(policy, input(i), options);

  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const args = input(i);
    const start = process.hrtime.bigint();
    evaluate(policy, args, options);
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  samples.sort();
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { p50Micros: round(at(0.5)), p99Micros: round(at(0.99)), meanMicros: round(mean) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = benchPolicy();
  console.log(JSON.stringify(result));
  // The guard index against running every rule's CEL, same run (`--compare`; slow: the
  // 1,000-rule policy without the index takes ~10 ms a verdict).
  if (process.argv.includes('--compare')) {
    for (const rules of [100, 1_000]) {
      const indexed = benchGuarded(rules, 5_000);
      const naive = benchGuarded(rules, 5_000, { index: false });
      console.log(JSON.stringify({ rules, indexed, naive, naiveOverIndexedP50: Math.round((naive.p50Micros / indexed.p50Micros) * 10) / 10 }));
    }
  }
  if (result.p99Micros >= 1000 || result.guarded.p99Micros >= 1000) {
    console.error(`p99 ${result.p99Micros} µs (50 rules) / ${result.guarded.p99Micros} µs (1,000 guarded) is above the 1 ms target`);
    process.exitCode = 1;
  }
}
