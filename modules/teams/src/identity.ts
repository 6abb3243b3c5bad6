import type { Activity } from 'botbuilder';
import type { Person } from '@countersign/contracts';
import { identityDirectory, type DirectoryView, type IdentityDirectory } from '@countersign/core';
import { tenantOf } from './conversations.ts';
import { teamsChannel, teamsIdOf } from './definition.ts';

// SPEC approver check 2 for Teams: the clicking user (the activity's AAD object id, in the
// configured tenant) maps to exactly one directory person — by the Teams id the directory
// pins, else by the roster's email/UPN matching exactly one person. The engine does the rest
// (self-approval, roles, dual control). Any doubt is a refusal.

export interface TeamsDirectory extends Pick<IdentityDirectory, 'person' | 'peopleByEmail'> {
  /** The person the directory pins to this AAD object id (any case). */
  personByTeamsId(aadObjectId: string): Person | undefined;
}

/** The loaded directory with the Teams look-ups (the engine's view only promises `person`). */
export function teamsDirectory(view: DirectoryView): TeamsDirectory {
  const directory = identityDirectory(view);
  return {
    person: (id) => directory.person(id),
    peopleByEmail: (email) => directory.peopleByEmail(email),
    personByTeamsId: (aad) => directory.personByIdentity(teamsChannel.name, aad.toLowerCase()),
  };
}

/** What the Teams roster says about a member (TeamsInfo.getMember). */
export interface RosterMember {
  aadObjectId?: string;
  email?: string;
  userPrincipalName?: string;
  tenantId?: string;
  /** 'user' for members of the tenant; 'guest' for B2B guests, 'anonymous' for meeting guests. */
  userRole?: string;
}

export type Identification = { person: Person } | { refused: string; code: 'wrong_tenant' | 'unknown_identity' | 'ambiguous_identity' };

export const MESSAGES = {
  wrongTenant: 'This countersign bot only takes decisions from its own organisation.',
  noIdentity: 'Teams did not say who you are, so your click cannot count.',
  unknown: 'You are not in the countersign directory, so your click cannot count. Ask an administrator to add your Teams account.',
  ambiguous: 'Your Teams account matches more than one person in the countersign directory; ask an administrator to pin your Teams id.',
  guest: 'Guest accounts cannot decide here: a guest\'s email says who invited them, not who they are. Ask an administrator to pin your Teams id.',
  rosterFailed: 'countersign could not confirm who you are with Teams right now; try again in a moment.',
} as const;

export function sameTenant(activity: Partial<Activity>, tenantId: string): boolean {
  const t = tenantOf(activity);
  return t !== null && t === tenantId.toLowerCase();
}

export async function identifyClicker(input: {
  activity: Partial<Activity>;
  tenantId: string;
  directory: TeamsDirectory;
  /** Roster look-up of the clicking member; only called when the directory has no Teams id match. */
  roster: () => Promise<RosterMember | null>;
}): Promise<Identification> {
  const { activity, directory } = input;
  if (!sameTenant(activity, input.tenantId)) return { refused: MESSAGES.wrongTenant, code: 'wrong_tenant' };
  const aad = activity.from?.aadObjectId?.toLowerCase();
  if (!aad) return { refused: MESSAGES.noIdentity, code: 'unknown_identity' };

  const byId = directory.personByTeamsId(aad);
  if (byId) return { person: byId };

  let member: RosterMember | null;
  try {
    member = await input.roster();
  } catch {
    // The roster is the only other proof of who this is; without it, no vote.
    return { refused: MESSAGES.rosterFailed, code: 'unknown_identity' };
  }
  if (!member || member.aadObjectId?.toLowerCase() !== aad) return { refused: MESSAGES.unknown, code: 'unknown_identity' };
  // The email/UPN fallback trusts only the tenant's own members: a guest (B2B or anonymous)
  // brings an email its home organisation or the guest chose, so a guest carrying a directory
  // person's address must not become that person. A member that does not name our tenant is
  // no proof either. Pinning the Teams id in the directory is the way for a real guest.
  if (!member.tenantId || member.tenantId.toLowerCase() !== input.tenantId.toLowerCase()) return { refused: MESSAGES.wrongTenant, code: 'wrong_tenant' };
  if ((member.userRole !== undefined && member.userRole.toLowerCase() !== 'user') || /#ext#/i.test(member.userPrincipalName ?? '')) {
    return { refused: MESSAGES.guest, code: 'unknown_identity' };
  }

  const addresses = [member.email, member.userPrincipalName].filter((a): a is string => typeof a === 'string' && a.includes('@'));
  const matches = new Map<string, Person>();
  for (const address of addresses) for (const p of directory.peopleByEmail(address)) matches.set(p.id, p);
  if (matches.size === 0) return { refused: MESSAGES.unknown, code: 'unknown_identity' };
  if (matches.size > 1) return { refused: MESSAGES.ambiguous, code: 'ambiguous_identity' };
  const person = [...matches.values()][0]!;
  // The directory pins this person to another Teams account: the email match is not them.
  const pinned = teamsIdOf(person);
  if (pinned && pinned !== aad) return { refused: MESSAGES.unknown, code: 'unknown_identity' };
  return { person };
}
