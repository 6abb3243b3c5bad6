import type { ChannelTarget } from '@countersign/core';
import { baseConversationId, type ConversationRecord } from './conversations.ts';

// A rule's `channels.teams` hints and `people`, resolved against the conversations the bot has
// been installed in. Pure: the caller loads the records and the directory look-up.
//
// Hint forms:
//   "Platform/Approvals"        team name (or team id) / channel name, case-insensitive
//   "Platform"                  the team's General channel
//   "19:abc…@thread.tacv2"      a conversation id (channel or group chat)
// An ambiguous hint (two teams with that name) resolves to nothing rather than to a guess:
// a card in the wrong team shows an intent to people who should not see it.

export interface Unresolved {
  hint: string;
  why: 'not_installed' | 'ambiguous' | 'no_teams_identity' | 'no_personal_chat' | 'unknown_person';
}

export interface ResolvedTargets {
  targets: ChannelTarget[];
  unresolved: Unresolved[];
}

const CONVERSATION_ID = /^(19|a|29):/;

function same(a: string | null, b: string): boolean {
  return a !== null && a.trim().toLowerCase() === b.trim().toLowerCase();
}

function matchChannelHint(hint: string, records: ConversationRecord[]): ConversationRecord[] {
  if (CONVERSATION_ID.test(hint)) {
    const id = baseConversationId(hint);
    return records.filter((r) => r.id === id && r.kind !== 'personal');
  }
  const slash = hint.lastIndexOf('/');
  const teamPart = slash === -1 ? hint : hint.slice(0, slash);
  const channelPart = slash === -1 ? null : hint.slice(slash + 1);
  const channels = records.filter((r) => r.kind === 'channel');
  const byId = channels.filter((r) => r.teamId === teamPart);
  const inTeam = byId.length > 0 ? byId : channels.filter((r) => same(r.teamName, teamPart));
  // Two different teams answering to one name is ambiguous even if each has the channel.
  if (new Set(inTeam.map((r) => r.teamId)).size > 1) return [...new Map(inTeam.map((r) => [r.teamId, r])).values()];
  if (channelPart === null) return inTeam.filter((r) => r.id === r.teamId);
  return inTeam.filter((r) => same(r.channelName, channelPart));
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
    const matches = matchChannelHint(hint, input.records);
    if (matches.length === 1) {
      const id = matches[0]!.id;
      if (!targets.has(id)) targets.set(id, { target: id });
    } else {
      unresolved.push({ hint, why: matches.length === 0 ? 'not_installed' : 'ambiguous' });
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
