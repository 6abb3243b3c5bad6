import type { DomainError, VoteChannel, VoteDecision } from '@countersign/contracts';
import { escalate, testEngine, type RequirementInput, type TestEngine } from './engine.ts';

// One small organisation for the engine's unit tests. The agent `deploy-bot` belongs to olga;
// erin is a person who submits herself; frank is the person an agent may act for.
export function org(): TestEngine {
  const engine = testEngine();
  const d = engine.directory;
  d.addPerson('olga', ['sre-lead']);
  d.addAgent('deploy-bot', 'olga');
  d.addPerson('erin', ['sre-lead', 'security']);
  d.addPerson('frank', ['sre-lead', 'security']);
  d.addPerson('alice', ['sre-lead']);
  d.addPerson('gina', ['sre-lead']);
  d.addPerson('bob', ['security']);
  d.addPerson('carol', ['sre-lead', 'security']);
  d.addPerson('dave', ['viewer']);
  d.addPerson('ivan', ['incident-commander']);
  return engine;
}

/** "One sre-lead and one security", the usual dual control. */
export const DUAL: RequirementInput = { groups: [{ role: 'sre-lead', count: 1 }, { role: 'security', count: 1 }], expiresInSeconds: 600 };

/** deploy-bot asks; returns the pending action's id. */
export async function pendingAction(engine: TestEngine, requirement: RequirementInput = DUAL, as = 'deploy-bot', intent: Record<string, unknown> = {}) {
  const caller = await engine.callerFor(as, { canDelegate: intent.onBehalfOf !== undefined });
  const view = await escalate(engine, caller, requirement, intent);
  if (view.status !== 'pending') throw new Error(`expected a pending action, got ${view.status}`);
  return view.id;
}

export function vote(engine: TestEngine, actionId: string, personId: string, decision: VoteDecision = 'approve', reason: string | null = null, channel: VoteChannel = 'api') {
  return engine.gate.vote({ actionId, personId, decision, reason, channel });
}

/** The DomainError a promise rejects with (fails the test if it resolves or throws something else). */
export async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error) || err.name !== 'DomainError') throw new Error(`expected a DomainError, got ${String(err)}`);
  return err as DomainError;
}
