import { NO_CHANNELS, RequirementSchema } from '@countersign/contracts';
import type { ChannelCatalog, Requirement } from '@countersign/contracts';
import { contentDigest, parseYamlWithSchema } from '@countersign/directory';
import { compileCondition, ConditionError } from './cel.ts';
import { executorIssues } from './executor-check.ts';
import { guardTerms } from './guard.ts';
import { policyFileSchema } from './policy-file.ts';
import type { RuleFile } from './policy-file.ts';
import { buildRuleIndex, chooseGuards } from './rule-index.ts';
import type { CompiledPolicy, CompiledRule } from './types.ts';

export interface PolicyLoadOptions {
  /** The installed channels: a rule may name these in `channels`, and only these. */
  channels?: ChannelCatalog;
}

/**
 * Parse, validate and compile a policy file. Every `when` is compiled here, once, so a broken
 * expression stops the load (and the reload keeps the last good policy) instead of failing
 * per request. Throws ConfigError pointing at the offending line.
 */
export function loadPolicy(text: string, fileName: string, options: PolicyLoadOptions = {}): CompiledPolicy {
  const channels = options.channels ?? NO_CHANNELS;
  const parsed = parseYamlWithSchema(text, fileName, policyFileSchema(channels));
  const file = parsed.value;

  const seen = new Set<string>();
  const drafts: Omit<CompiledRule, 'guard'>[] = file.rules.map((rule, i) => {
    if (seen.has(rule.id)) throw parsed.errorAt(['rules', i, 'id'], `duplicate rule id "${rule.id}"`);
    seen.add(rule.id);

    let condition;
    try {
      condition = compileCondition(rule.when);
    } catch (err) {
      if (!(err instanceof ConditionError)) throw err;
      const where = err.offset === undefined ? '' : ` (at character ${err.offset + 1} of the expression)`;
      throw parsed.errorAt(['rules', i, 'when'], `rule ${rule.id}: when: ${err.message}${where}`);
    }

    if (rule.executor) {
      const issue = executorIssues(rule.executor)[0];
      if (issue) throw parsed.errorAt(['rules', i, 'executor', ...issue.path], `rule ${rule.id}: ${issue.message}`);
    }

    let requirement: Requirement | undefined;
    if (rule.requirement) {
      const result = RequirementSchema.safeParse(toRequirement(rule.requirement, rule.executor, channels));
      // The file schema already enforces these limits; reaching this means the two drifted.
      if (!result.success) throw parsed.errorAt(['rules', i, 'requirement'], `rule ${rule.id}: requirement: ${result.error.issues[0]?.message}`);
      requirement = result.data;
    }

    return {
      id: rule.id,
      description: rule.description,
      outcome: rule.outcome,
      reason: rule.reason,
      when: rule.when,
      requirement,
      overrideRoles: Object.freeze([...(rule.override?.roles ?? [])]),
      line: parsed.locate(['rules', i]).line,
      condition,
    };
  });

  // Guards are chosen across the policy: the most selective term of each rule (see rule-index.ts).
  const guards = chooseGuards(drafts.map((rule) => guardTerms(rule.when)));
  const rules: CompiledRule[] = drafts.map((rule, i) => Object.freeze({ ...rule, guard: guards[i] }));

  return Object.freeze({
    digest: contentDigest(text),
    fileName,
    rules: Object.freeze(rules),
    noMatchOverrideRoles: Object.freeze([...file.defaults.noMatch.override.roles]),
    demo: file.demo,
    index: buildRuleIndex(guards),
  });
}

function toRequirement(req: NonNullable<RuleFile['requirement']>, executor: RuleFile['executor'], channels: ChannelCatalog): Requirement {
  // Every installed channel's places, [] where the rule names none: one shape for all rules.
  const places = (hints: Record<string, unknown>) => Object.fromEntries(channels.names.map((name) => [name, [...((hints[name] as string[] | undefined) ?? [])]]));
  return {
    ...(executor ? { executor } : {}),
    groups: req.approvers.map((g) => ({ role: g.role, count: g.count })),
    expiresInSeconds: req.expiresIn,
    ownerMayApprove: req.ownerMayApprove,
    denyEndsRequest: req.denyEndsRequest,
    approvalReasonRequired: req.approvalReasonRequired,
    redact: [...req.redact],
    feature: [...req.feature],
    channels: {
      ...places(req.channels),
      people: [...req.channels.people],
      reminders: [...new Set(req.channels.reminders)].sort((a, b) => a - b),
      tiers: req.channels.tiers
        .map((t) => ({ afterSeconds: t.after, ...places(t), people: [...t.people] }))
        .sort((a, b) => a.afterSeconds - b.afterSeconds),
    },
  };
}
