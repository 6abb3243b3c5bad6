import { DomainError, type Person } from '@countersign/contracts';
import { ChannelError, identityDirectory, type ConfigView, type IdentityDirectory } from '@countersign/core';
import { slackChannel, slackUserIdOf } from './definition.ts';
import type { SlackApi } from './slack-api.ts';
import type { SlackSettings } from './settings.ts';

// SPEC approver checks 1 and 2 for Slack: the clicking user comes from the allowed workspace
// (or Grid organisation) and maps to exactly one directory person. Anything less certain is a
// refusal: a user of another organisation in a shared channel, a deactivated account, an email
// that Slack has not confirmed, an email that two people share.

/** The directory in force, with the look-ups a Slack user is mapped with. */
export function slackDirectory(config: ConfigView): IdentityDirectory {
  return identityDirectory(config.current().directory);
}

/** The clicking user as the signed payload names them. */
export interface SlackUserRef {
  id: string;
  /** The user's own workspace (`user.team_id`); for a Slack Connect guest, their home one. */
  teamId: string | null;
}

interface UsersInfoUser {
  id?: string;
  team_id?: string;
  deleted?: boolean;
  is_bot?: boolean;
  is_email_confirmed?: boolean;
  profile?: { email?: string };
  enterprise_user?: { enterprise_id?: string };
}

export interface IdentityDeps {
  settings: SlackSettings;
  config: ConfigView;
  api: SlackApi;
}

const NOT_ALLOWED = 'Only people of the organisation this countersign serves can decide here; your click was not recorded.';

/** Maps the clicking Slack user to exactly one directory person, or throws the refusal. */
export async function personForSlackUser(deps: IdentityDeps, user: SlackUserRef): Promise<Person> {
  const { settings } = deps;
  // The workspace check comes first and uses the signed payload: a directory entry for a
  // Slack id never makes a user of another workspace count.
  if (settings.SLACK_TEAM_ID && user.teamId !== settings.SLACK_TEAM_ID) throw new DomainError('forbidden', NOT_ALLOWED);

  const directory = slackDirectory(deps.config);
  let info: UsersInfoUser | undefined;
  const loadInfo = async () => {
    try {
      info ??= ((await deps.api.call('users.info', (c) => c.users.info({ user: user.id }))).user as UsersInfoUser | undefined) ?? {};
    } catch (err) {
      if (err instanceof ChannelError && err.code === 'user_not_found') throw unknown();
      throw err;
    }
    return info;
  };

  if (settings.SLACK_ENTERPRISE_ID) {
    // Grid: the organisation is a property of the account, which only users.info tells.
    const u = await loadInfo();
    if (u.enterprise_user?.enterprise_id !== settings.SLACK_ENTERPRISE_ID) throw new DomainError('forbidden', NOT_ALLOWED);
  }

  const byId = directory.personByIdentity(slackChannel.name, user.id);
  if (byId) return byId;

  const u = await loadInfo();
  if (u.id !== user.id || u.deleted || u.is_bot) throw unknown();
  const email = u.profile?.email;
  // Only an email Slack has confirmed identifies a person; an unconfirmed one is just text.
  if (!email || u.is_email_confirmed !== true) throw unknown();
  const matches = directory.peopleByEmail(email);
  if (matches.length !== 1) throw unknown();
  const person = matches[0]!;
  // The directory pins this person to another Slack account: the email match is not them.
  const pinned = slackUserIdOf(person);
  if (pinned && pinned !== user.id) throw unknown();
  return person;
}

function unknown(): DomainError {
  return new DomainError('unknown_identity', 'Your Slack account does not match exactly one person in the countersign directory, so your click was not recorded. Ask an administrator to add your Slack user id or a confirmed email to the directory.');
}
