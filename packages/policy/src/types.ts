import type { Outcome, Requirement } from '@countersign/contracts';
import type { CompiledCondition } from './cel.ts';
import type { RuleGuard } from './guard.ts';
import type { RuleIndex } from './rule-index.ts';

export interface CompiledRule {
  readonly id: string;
  readonly description: string | undefined;
  readonly outcome: Outcome;
  readonly reason: string;
  /** The CEL source, as written. */
  readonly when: string;
  /** Present exactly when outcome is escalate; already valid against RequirementSchema. */
  readonly requirement: Requirement | undefined;
  /** Roles that may override this rule's refusal (refuse rules only; empty otherwise). */
  readonly overrideRoles: readonly string[];
  /** Where the rule starts in the policy file, for messages. */
  readonly line: number;
  readonly condition: CompiledCondition;
  /** A `path == "literal"` conjunct of `when` that evaluate() checks before running the CEL. */
  readonly guard: RuleGuard | undefined;
}

export interface CompiledPolicy {
  /** sha256 hex of the policy file's bytes: recorded on every verdict. */
  readonly digest: string;
  readonly fileName: string;
  readonly rules: readonly CompiledRule[];
  /** Roles that may override the "no rule matched" refusal. */
  readonly noMatchOverrideRoles: readonly string[];
  /** Marked `demo: true` (the repository's demo organisation): never decides in production. */
  readonly demo: boolean;
  /** The rules by guard, so an intent evaluates only those that can match it. */
  readonly index: RuleIndex;
}
