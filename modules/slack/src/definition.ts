import { z } from 'zod';
import { identityOn, PlacesSchema, type ChannelDefinition } from '@countersign/contracts';

// What the organisation's files may say about Slack: a rule's `channels: { slack: [...] }`
// (channel names "#prod-approvals" or ids), and a person's `slack: { userId }` in the
// directory. Light on purpose (zod only): the CLI's `policy check` loads it without Bolt.

export const SlackIdentitySchema = z.strictObject({ userId: z.string().regex(/^[UW][A-Z0-9]{2,}$/) });
export type SlackIdentity = z.output<typeof SlackIdentitySchema>;

export const slackChannel: ChannelDefinition<SlackIdentity> = {
  name: 'slack',
  hints: PlacesSchema,
  identity: SlackIdentitySchema,
  identityKey: (identity) => ({ key: identity.userId, path: ['userId'], label: `Slack user id ${identity.userId}` }),
  // Slack asks for about one message per second per channel; it limits updates per method,
  // not per channel, so updates are not paced.
  pacing: { intervalMs: 1_000, updates: false },
};

/** The Slack user id the directory pins for this person, if any. */
export function slackUserIdOf(person: Readonly<Record<string, unknown>>): string | undefined {
  return identityOn(slackChannel, person)?.userId;
}
