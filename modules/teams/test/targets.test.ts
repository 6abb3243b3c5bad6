import { describe, expect, it } from 'vitest';
import type { ConversationRecord } from '../src/conversations.ts';
import { resolveTeamsTargets } from '../src/targets.ts';

const T = 'tenant';
function channel(id: string, teamId: string, teamName: string, channelName: string): ConversationRecord {
  return { id, kind: 'channel', tenantId: T, teamId, teamName, channelName, aadObjectId: null, reference: {} };
}
const records: ConversationRecord[] = [
  channel('19:plat@thread', '19:plat@thread', 'Platform', 'General'),
  channel('19:plat-appr@thread', '19:plat@thread', 'Platform', 'Approvals'),
  channel('19:sec@thread', '19:sec@thread', 'Security', 'General'),
  channel('19:sec-appr@thread', '19:sec@thread', 'Security', 'Approvals'),
  // Two teams called "Ops": a name alone cannot say which.
  channel('19:ops1@thread', '19:ops1@thread', 'Ops', 'General'),
  channel('19:ops2@thread', '19:ops2@thread', 'Ops', 'General'),
  { id: '19:chat@thread.v2', kind: 'groupChat', tenantId: T, teamId: null, teamName: null, channelName: null, aadObjectId: null, reference: {} },
  { id: 'a:bob', kind: 'personal', tenantId: T, teamId: null, teamName: null, channelName: null, aadObjectId: 'aad-bob', reference: {} },
];
const teamsIds: Record<string, string | null> = { bob: 'AAD-BOB', carol: null, dave: 'aad-dave' };
const resolve = (channels: string[], people: string[] = []) => resolveTeamsTargets({ hints: { channels, people }, records, teamsIdOf: (id) => teamsIds[id] });

describe('resolveTeamsTargets', () => {
  it('maps team/channel names case-insensitively, a team to its General channel, ids as given', () => {
    expect(resolve(['Platform/Approvals', 'security/approvals', 'Platform', '19:plat@thread/Approvals', '19:chat@thread.v2']).targets).toEqual([
      { target: '19:plat-appr@thread' },
      { target: '19:sec-appr@thread' },
      { target: '19:plat@thread' },
      { target: '19:chat@thread.v2' },
    ]);
  });

  it('accepts a conversation id with a thread suffix, and never targets a personal chat by id', () => {
    expect(resolve(['19:sec-appr@thread;messageid=123', 'a:bob']).targets).toEqual([{ target: '19:sec-appr@thread' }]);
  });

  it('leaves ambiguous and unknown hints unresolved rather than guessing', () => {
    const r = resolve(['Ops', 'Ops/General', 'Nope/Approvals', 'Platform/Nope']);
    expect(r.targets).toEqual([]);
    expect(r.unresolved).toEqual([
      { hint: 'Ops', why: 'ambiguous' },
      { hint: 'Ops/General', why: 'ambiguous' },
      { hint: 'Nope/Approvals', why: 'not_installed' },
      { hint: 'Platform/Nope', why: 'not_installed' },
    ]);
  });

  it("maps people to their personal chat by the directory's Teams id", () => {
    const r = resolve([], ['bob', 'carol', 'dave', 'zed']);
    expect(r.targets).toEqual([{ target: 'a:bob', personId: 'bob' }]);
    expect(r.unresolved).toEqual([
      { hint: 'carol', why: 'no_teams_identity' },
      { hint: 'dave', why: 'no_personal_chat' },
      { hint: 'zed', why: 'unknown_person' },
    ]);
  });

  it('asks each conversation once', () => {
    expect(resolve(['Platform/Approvals', '19:plat-appr@thread', 'PLATFORM/APPROVALS'], ['bob', 'bob']).targets).toEqual([
      { target: '19:plat-appr@thread' },
      { target: 'a:bob', personId: 'bob' },
    ]);
  });
});
