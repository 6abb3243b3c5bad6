import type { ChannelTarget } from '@countersign/core';
import type { ConversationRecord } from './conversations.ts';
import { parseTeamsPlace } from './definition.ts';

// A rule's `channels.teams` hints and `people`, resolved against the conversations the bot has
// been installed in. Pure: the caller loads the records and the directory look-up.
//
// Hint forms (ids only; definition.ts refuses anything else when the policy loads):
//   "19:abc…@thread.tacv2"                      a channel (a team's id is its General channel)
//   "19:abc…@thread.v2"                         a group chat
//   "19:team…@thread.tacv2/19:chan…@thread.tacv2"  that channel, only if it is in that team
// Team and channel display names are never matched: anyone in the tenant can name a team
// "Finance", and a card in a look-alike team shows the intent to people who should not see it.

export interface Unresolved {
  hint: string;
  /** not_an_id: a name-based hint stored before hints were ids only (a pending action's requirement). */
  why: 'not_an_id' | 'not_installed' | 'no_teams_identity' | 'no_personal_chat' | 'unknown_person';
}

export interface ResolvedTargets {
  targets: ChannelTarget[];
  unresolved: Unresolved[];
}

function matchChannelHint(hint: string, records: ConversationRecord[]): ConversationRecord | 'not_an_id' | null {
  const place = parseTeamsPlace(hint);
  if (!place) return 'not_an_id';
  // Conversation ids are the table's key: at most one record.
  const match = records.find((r) => r.id === place.conversationId && r.kind !== 'personal');
  if (!match || (place.teamId !== null && match.teamId !== place.teamId)) return null;
  return match;
}

export function resolveTeamsTargets(input: {
  hints: { channels: string[]; people: string[] };
  records: ConversationRecord[];
  /** The person's Teams AAD object id from the directory; undefined when unknown, null when none. */
  teamsIdOf: (personId: string) => string | null | undefined;
}): ResolvedTargets {
  const targets = new Map<string, ChannelTarget>();
  const unresolved: Unresolved[] = [];
  for (const hint of input.hints.channels) {
    const match = matchChannelHint(hint, input.records);
    if (match === 'not_an_id' || match === null) {
      unresolved.push({ hint, why: match ?? 'not_installed' });
    } else if (!targets.has(match.id)) {
      targets.set(match.id, { target: match.id });
    }
  }
  for (const personId of input.hints.people) {
    const aad = input.teamsIdOf(personId);
    if (aad === undefined) {
      unresolved.push({ hint: personId, why: 'unknown_person' });
      continue;
    }
    if (aad === null) {
      unresolved.push({ hint: personId, why: 'no_teams_identity' });
      continue;
    }
    const chat = input.records
      .filter((r) => r.kind === 'personal' && r.aadObjectId === aad.toLowerCase())
      .sort((a, b) => a.id.localeCompare(b.id))[0];
    if (!chat) {
      unresolved.push({ hint: personId, why: 'no_personal_chat' });
      continue;
    }
    if (!targets.has(chat.id)) targets.set(chat.id, { target: chat.id, personId });
  }
  return { targets: [...targets.values()], unresolved };
}
