import { z } from 'zod';
import { identityOn, PlacesSchema, type ChannelDefinition } from '@countersign/contracts';

// What the organisation's files may say about Teams: a rule's `channels: { teams: [...] }`
// ("Team/Channel", a team, a conversation id; see targets.ts), and a person's
// `teams: { aadObjectId }` in the directory. Light on purpose (zod only): the CLI's
// `policy check` loads it without botbuilder.

export const TeamsIdentitySchema = z.strictObject({ aadObjectId: z.uuid() });
export type TeamsIdentity = z.output<typeof TeamsIdentitySchema>;

export const teamsChannel: ChannelDefinition<TeamsIdentity> = {
  name: 'teams',
  hints: PlacesSchema,
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
