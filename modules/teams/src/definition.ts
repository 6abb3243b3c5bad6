import { z } from 'zod';
import { identityOn, type ChannelDefinition } from '@countersign/contracts';

// What the organisation's files may say about Teams: a rule's `channels: { teams: [...] }`
// (conversation ids, see targets.ts), and a person's `teams: { aadObjectId }` in the
// directory. Light on purpose (zod only): the CLI's `policy check` loads it without botbuilder.

export const TeamsIdentitySchema = z.strictObject({ aadObjectId: z.uuid() });
export type TeamsIdentity = z.output<typeof TeamsIdentitySchema>;

/**
 * A channel's or group chat's conversation id as Bot Framework gives it: "19:…@thread.tacv2"
 * (a team's id is its General channel's), "19:…@thread.v2" (a group chat). Personal chats
 * ("a:…") are reached through `people`, never by id.
 */
const CONVERSATION_ID = /^19:[^\s/;@]+@thread\.[a-z0-9]+$/i;

/** Where a Teams place points: a conversation, and the team it must belong to when named. */
export interface TeamsPlace {
  conversationId: string;
  teamId: string | null;
}

/**
 * A rule's Teams place: "<conversation id>" or "<team id>/<channel id>", ids only. Display
 * names are refused: anyone in the tenant can create a team called "Finance", and a card in a
 * look-alike team shows the intent to people who should not see it.
 */
export function parseTeamsPlace(place: string): TeamsPlace | null {
  const slash = place.indexOf('/');
  if (slash === -1) return CONVERSATION_ID.test(place) ? { conversationId: place, teamId: null } : null;
  const teamId = place.slice(0, slash);
  const conversationId = place.slice(slash + 1);
  return CONVERSATION_ID.test(teamId) && CONVERSATION_ID.test(conversationId) ? { conversationId, teamId } : null;
}

export const TEAMS_PLACE_HELP =
  'Teams places are ids, never display names (any team can be named alike): use a channel\'s or group chat\'s conversation id ("19:…@thread.tacv2"; a team\'s id names its General channel) or "<team id>/<channel id>"';

export const TeamsPlacesSchema = z.array(
  z
    .string()
    .min(1)
    .superRefine((place, ctx) => {
      if (parseTeamsPlace(place) === null) ctx.addIssue({ code: 'custom', message: `"${place}" is not a Teams id. ${TEAMS_PLACE_HELP}` });
    }),
);

export const teamsChannel: ChannelDefinition<TeamsIdentity> = {
  name: 'teams',
  hints: TeamsPlacesSchema,
  identity: TeamsIdentitySchema,
  // AAD object ids are uuids; Teams may send them in either case.
  identityKey: (identity) => ({ key: identity.aadObjectId.toLowerCase(), path: ['aadObjectId'], label: `Teams AAD object id ${identity.aadObjectId}` }),
  // Teams limits every operation on a conversation, card updates included: they take the
  // same pacing turn as posts.
  pacing: { intervalMs: 1_000, updates: true },
};

/** The AAD object id the directory pins for this person (lowercase), if any. */
export function teamsIdOf(person: Readonly<Record<string, unknown>>): string | undefined {
  return identityOn(teamsChannel, person)?.aadObjectId.toLowerCase();
}
