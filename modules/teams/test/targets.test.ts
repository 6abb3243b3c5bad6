import { describe, expect, it } from 'vitest';
import type { ConversationRecord } from '../src/conversations.ts';
import { parseTeamsPlace, teamsChannel } from '../src/definition.ts';
import { resolveTeamsTargets } from '../src/targets.ts';

const T = 'tenant';
function channel(id: string, teamId: string, teamName: string, channelName: string): ConversationRecord {
  return { id, kind: 'channel', tenantId: T, teamId, teamName, channelName, aadObjectId: null, reference: {} };
}
const PLAT = '19:plat@thread.tacv2';
const PLAT_APPR = '19:plat-appr@thread.tacv2';
const SEC = '19:sec@thread.tacv2';
const SEC_APPR = '19:sec-appr@thread.tacv2';
const CHAT = '19:chat@thread.v2';
const records: ConversationRecord[] = [
  channel(PLAT, PLAT, 'Platform', 'General'),
  channel(PLAT_APPR, PLAT, 'Platform', 'Approvals'),
  channel(SEC, SEC, 'Security', 'General'),
  channel(SEC_APPR, SEC, 'Security', 'Approvals'),
  // Two teams called "Finance": only an id can say which.
  channel('19:fin-real@thread.tacv2', '19:fin-real@thread.tacv2', 'Finance', 'General'),
  channel('19:fin-fake@thread.tacv2', '19:fin-fake@thread.tacv2', 'Finance', 'General'),
  { id: CHAT, kind: 'groupChat', tenantId: T, teamId: null, teamName: null, channelName: null, aadObjectId: null, reference: {} },
  { id: 'a:bob', kind: 'personal', tenantId: T, teamId: null, teamName: null, channelName: null, aadObjectId: 'aad-bob', reference: {} },
];
const teamsIds: Record<string, string | null> = { bob: 'AAD-BOB', carol: null, dave: 'aad-dave' };
const resolve = (channels: string[], people: string[] = []) => resolveTeamsTargets({ hints: { channels, people }, records, teamsIdOf: (id) => teamsIds[id] });

describe('parseTeamsPlace', () => {
  it('reads a conversation id, or a team id and a channel id', () => {
    expect(parseTeamsPlace(PLAT_APPR)).toEqual({ conversationId: PLAT_APPR, teamId: null });
    expect(parseTeamsPlace(CHAT)).toEqual({ conversationId: CHAT, teamId: null });
    expect(parseTeamsPlace(`${PLAT}/${PLAT_APPR}`)).toEqual({ conversationId: PLAT_APPR, teamId: PLAT });
  });

  it('refuses display names, personal chats and anything else that is not an id', () => {
    for (const place of ['Platform', 'Platform/Approvals', `${PLAT}/Approvals`, `Platform/${PLAT_APPR}`, 'a:bob', '29:user', `${PLAT};messageid=1`, '19:x', `${PLAT}/${PLAT_APPR}/x`]) {
      expect(parseTeamsPlace(place), place).toBeNull();
    }
  });
});

describe('resolveTeamsTargets', () => {
  it('maps a channel or group chat by its id, and a team id to its General channel', () => {
    expect(resolve([PLAT_APPR, SEC, CHAT, `${SEC}/${SEC_APPR}`]).targets).toEqual([{ target: PLAT_APPR }, { target: SEC }, { target: CHAT }, { target: SEC_APPR }]);
  });

  it('never matches a display name, even one only a single team has', () => {
    const r = resolve(['Platform/Approvals', 'Platform', 'Finance', 'Finance/General']);
    expect(r.targets).toEqual([]);
    expect(r.unresolved.map((u) => u.why)).toEqual(['not_an_id', 'not_an_id', 'not_an_id', 'not_an_id']);
  });

  it('of two teams with one name, only the team whose id the hint names is asked', () => {
    expect(resolve(['19:fin-real@thread.tacv2']).targets).toEqual([{ target: '19:fin-real@thread.tacv2' }]);
  });

  it('a team id and channel id resolve only when the channel is in that team; personal chats are never targeted by id', () => {
    const r = resolve([`${PLAT}/${SEC_APPR}`, '19:nowhere@thread.tacv2', 'a:bob']);
    expect(r.targets).toEqual([]);
    expect(r.unresolved).toEqual([
      { hint: `${PLAT}/${SEC_APPR}`, why: 'not_installed' },
      { hint: '19:nowhere@thread.tacv2', why: 'not_installed' },
      { hint: 'a:bob', why: 'not_an_id' },
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
    expect(resolve([PLAT_APPR, `${PLAT}/${PLAT_APPR}`], ['bob', 'bob']).targets).toEqual([{ target: PLAT_APPR }, { target: 'a:bob', personId: 'bob' }]);
  });
});

describe('Teams places as a rule writes them', () => {
  it('accepts ids and refuses a team or channel named by display name, saying to use ids', () => {
    expect(teamsChannel.hints.parse([PLAT_APPR, `${PLAT}/${PLAT_APPR}`, CHAT])).toEqual([PLAT_APPR, `${PLAT}/${PLAT_APPR}`, CHAT]);
    const refused = teamsChannel.hints.safeParse([PLAT_APPR, 'Finance/Approvals']);
    expect(refused.success).toBe(false);
    expect(refused.error!.issues).toEqual([
      expect.objectContaining({ path: [1], message: expect.stringMatching(/^"Finance\/Approvals" is not a Teams id\. Teams places are ids, never display names.*<team id>\/<channel id>/) }),
    ]);
  });
});
