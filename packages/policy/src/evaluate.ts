import type { Actor, Intent, Requirement, Verdict } from '@countersign/contracts';
import { buildBindings } from './bindings.ts';
import { asBoolean } from './cel.ts';
import { combineRequirements, intersectOverrideRoles } from './combine.ts';
import { candidateRules } from './rule-index.ts';
import type { CompiledPolicy, CompiledRule } from './types.ts';

export interface EvaluationInput {
  /** The normalised intent (IntentSchema output). */
  intent: Intent;
  /** Who is acting, from the directory; never from the payload. */
  actor: Actor;
  /** Injected clock: policy is pure and time rules must be testable. */
  now: Date;
}

export interface EvaluateOptions {
  /**
   * false: run every rule's CEL instead of skipping the rules whose guard rules them out. The
   * verdict is the same either way (the property tests compare the two); this is the reference.
   */
  index?: boolean;
}

interface RefuseMatch {
  ruleIds: string[];
  reason: string;
  overrideRoles: readonly string[];
}

/**
 * What the policy says about one intent. Every rule counts, so the verdict does not depend on
 * rule order (rule order only orders ids and reasons). A rule whose guard field is a string other
 * than its literal is skipped without running its CEL: its condition is then `false && …`,
 * which CEL makes false even when the rest would error (see guard.ts). Precedence is
 * refuse > escalate > approve; no match is a refusal; a rule that errors or yields a non-boolean
 * is a refusal with no override (fail closed). A refusal that escalate rules also matched
 * carries their combined requirement (`requirementAfterOverride`): overriding the refusal
 * escalates to it, never approves past it.
 */
export function evaluate(policy: CompiledPolicy, input: EvaluationInput, options: EvaluateOptions = {}): Verdict {
  const refuse: RefuseMatch[] = [];
  const escalate: CompiledRule[] = [];
  const approve: CompiledRule[] = [];

  let bindings;
  try {
    bindings = buildBindings(input.intent, input.actor, input.now);
  } catch (err) {
    return {
      outcome: 'refuse',
      ruleIds: [],
      reasons: [`intent could not be evaluated: ${(err as Error).message}`],
      policyDigest: policy.digest,
      overrideRoles: [],
    };
  }

  const positions = options.index === false ? undefined : candidateRules(policy.index, bindings);
  const count = positions ? positions.length : policy.rules.length;
  for (let k = 0; k < count; k++) {
    const rule = policy.rules[positions ? positions[k]! : k]!;
    let result;
    try {
      result = asBoolean(rule.condition(bindings));
    } catch (err) {
      result = { ok: false as const, error: (err as Error).message };
    }
    if (!result.ok) {
      refuse.push({ ruleIds: [rule.id], reason: `rule ${rule.id} could not be evaluated: ${result.error}`, overrideRoles: [] });
      continue;
    }
    if (!result.value) continue;
    if (rule.outcome === 'refuse') refuse.push({ ruleIds: [rule.id], reason: rule.reason, overrideRoles: rule.overrideRoles });
    else if (rule.outcome === 'escalate') escalate.push(rule);
    else approve.push(rule);
  }

  // Escalate rules first: their requirement survives a refusal (see below).
  let requirement: Requirement | undefined;
  if (escalate.length > 0) {
    // Two matching rules that would each send a different request: which one did approvers
    // approve? Ambiguity refuses (fail closed, no override) rather than picking one.
    const executors = new Set(escalate.flatMap((r) => (r.requirement?.executor ? [JSON.stringify(r.requirement.executor)] : [])));
    if (executors.size > 1) {
      refuse.push({
        ruleIds: escalate.map((r) => r.id),
        reason: `matching rules name different executors (${escalate.filter((r) => r.requirement?.executor).map((r) => r.id).join(', ')})`,
        overrideRoles: [],
      });
    } else {
      requirement = combineRequirements(escalate.map(requirementOf));
    }
  }

  if (refuse.length > 0) {
    return {
      outcome: 'refuse',
      ruleIds: refuse.flatMap((m) => m.ruleIds),
      reasons: refuse.map((m) => m.reason),
      policyDigest: policy.digest,
      overrideRoles: intersectOverrideRoles(refuse.map((m) => m.overrideRoles)),
      // An override lifts the refusal, not what the escalate rules that also matched ask for:
      // the action then goes on to them, with their requirement (dual control, executor).
      ...(requirement ? { requirementAfterOverride: requirement } : {}),
    };
  }
  if (requirement) {
    return {
      outcome: 'escalate',
      ruleIds: escalate.map((r) => r.id),
      reasons: escalate.map((r) => r.reason),
      policyDigest: policy.digest,
      requirement,
    };
  }
  if (approve.length > 0) {
    return {
      outcome: 'approve',
      ruleIds: approve.map((r) => r.id),
      reasons: approve.map((r) => r.reason),
      policyDigest: policy.digest,
    };
  }
  return {
    outcome: 'refuse',
    ruleIds: [],
    reasons: ['no rule matched'],
    policyDigest: policy.digest,
    overrideRoles: [...policy.noMatchOverrideRoles],
  };
}

function requirementOf(rule: CompiledRule) {
  // Loading guarantees escalate rules carry a requirement; if that ever breaks, stop loudly
  // rather than escalate with nobody to ask.
  if (!rule.requirement) throw new Error(`escalate rule ${rule.id} has no requirement`);
  return rule.requirement;
}
