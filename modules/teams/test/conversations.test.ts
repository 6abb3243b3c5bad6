import { describe, expect, it } from 'vitest';
import { channelRecord, recordFromActivity, tenantOf } from '../src/conversations.ts';

const TENANT = '0B9F6D2E-3C4A-4B5D-9E8F-7A6B5C4D3E2F';
const base = {
  channelId: 'msteams',
  serviceUrl: 'https://smba.example/amer/',
  recipient: { id: '28:bot', name: 'countersign' },
  from: { id: '29:alice', name: 'Alice', aadObjectId: 'AAAA-1' },
  channelData: { tenant: { id: TENANT } },
};

describe('conversation records', () => {
  it('reads the tenant from channelData and the conversation, and distrusts a disagreement', () => {
    expect(tenantOf({ ...base, conversation: { id: 'c', tenantId: TENANT } } as never)).toBe(TENANT.toLowerCase());
    expect(tenantOf({ channelId: 'msteams', conversation: { id: 'c', tenantId: TENANT } } as never)).toBe(TENANT.toLowerCase());
    // Direct Line / Web Chat on the same bot registration: the client wrote channelData itself.
    for (const channelId of ['directline', 'webchat', 'emulator', undefined]) {
      expect(tenantOf({ ...base, channelId, conversation: { id: 'c', tenantId: TENANT } } as never)).toBeNull();
    }
    expect(tenantOf({ ...base, conversation: { id: 'c', tenantId: 'other' } } as never)).toBeNull();
    expect(tenantOf({ conversation: { id: 'c' } } as never)).toBeNull();
  });

  it('a personal chat is keyed by the user', () => {
    const rec = recordFromActivity({ ...base, conversation: { id: 'a:chat', conversationType: 'personal', tenantId: TENANT } } as never);
    expect(rec).toMatchObject({ id: 'a:chat', kind: 'personal', aadObjectId: 'aaaa-1', teamId: null });
    expect(rec!.reference).toMatchObject({ serviceUrl: base.serviceUrl, bot: base.recipient, user: { id: '29:alice' }, conversation: { id: 'a:chat' } });
  });

  it("a team's General channel, from the install event (thread suffix dropped)", () => {
    const rec = recordFromActivity({
      ...base,
      conversation: { id: '19:team@thread.tacv2;messageid=42', conversationType: 'channel', tenantId: TENANT },
      channelData: { ...base.channelData, team: { id: '19:team@thread.tacv2', name: 'Platform' } },
    } as never)!;
    expect(rec).toMatchObject({ id: '19:team@thread.tacv2', kind: 'channel', teamId: '19:team@thread.tacv2', teamName: 'Platform', channelName: 'General' });
    expect(rec.reference).not.toHaveProperty('user');
    expect(channelRecord(rec, { id: '19:appr@thread.tacv2', name: 'Approvals' })).toMatchObject({
      id: '19:appr@thread.tacv2',
      channelName: 'Approvals',
      teamName: 'Platform',
      reference: { conversation: { id: '19:appr@thread.tacv2' } },
    });
  });

  it("does not take another channel's name (channelCreated arrives in General)", () => {
    const rec = recordFromActivity({
      ...base,
      conversation: { id: '19:team@thread.tacv2', conversationType: 'channel', tenantId: TENANT },
      channelData: { ...base.channelData, team: { id: '19:team@thread.tacv2', name: 'Platform' }, channel: { id: '19:new@thread.tacv2', name: 'New' } },
    } as never)!;
    expect(rec.channelName).toBe('General');
  });

  it('a group chat; nothing without a tenant', () => {
    expect(recordFromActivity({ ...base, conversation: { id: '19:g@thread.v2', conversationType: 'groupChat', tenantId: TENANT } } as never)).toMatchObject({ kind: 'groupChat' });
    expect(recordFromActivity({ ...base, channelData: {}, conversation: { id: '19:g@thread.v2', conversationType: 'groupChat' } } as never)).toBeNull();
  });
});
