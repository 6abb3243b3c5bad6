import type { Person } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from '../action.ts';
import type { ConfigView } from '../config-view.ts';
import { checkVoteOn } from './check-vote.ts';

/**
 * Whether `person` could still fill an open slot of `action` now: the vote's own dry run
 * (checkVoteOn: no self-approval, roles, one slot each, one vote each, expiry), so the inbox
 * and "who can still decide" never disagree with what a vote would answer. `votes` are the
 * action's votes already read (lists read them for a whole page at once).
 */
export async function canStillFill(config: ConfigView, action: ActionRecord, votes: VoteRecord[], personId: string, now: Date): Promise<boolean> {
  if (action.status !== 'pending' || !action.requirement) return false;
  const reader = { votesFor: async () => votes };
  const outcome = await checkVoteOn(config, reader, action, { actionId: action.id, personId, decision: 'approve', reason: undefined }, now);
  return 'allowed' in outcome;
}

/** Directory people who could still fill an open slot (pending actions only). */
export async function whoCanStillFill(config: ConfigView, action: ActionRecord, votes: VoteRecord[], now: Date): Promise<string[]> {
  if (action.status !== 'pending') return [];
  const out: string[] = [];
  for (const p of peopleOf(config)) if (await canStillFill(config, action, votes, p.id, now)) out.push(p.id);
  return out;
}

/** Everyone in the directory, where the loaded directory can list them (the real one does). */
export function peopleOf(config: ConfigView): readonly Person[] {
  const directory = config.current().directory as { people?: unknown };
  return typeof directory.people === 'function' ? (directory.people as () => readonly Person[])() : [];
}
