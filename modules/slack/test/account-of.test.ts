import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import type { ConfigView } from '@countersign/core';
import { SlackChannel } from '../src/slack-channel.ts';
import type { ChannelNames } from '../src/channel-names.ts';
import type { SlackApi } from '../src/slack-api.ts';

// accountOf records a party's Slack account with the action (party-accounts.ts). The answer to
// users.lookupByEmail is reused for a minute only: kept longer, a mailbox given to someone else
// recorded the previous holder's account as the party (review s15 a, B).

function channelWith(owner: { current: string }) {
  const lookups: string[] = [];
  const client = {
    users: {
      lookupByEmail: async (args: { email: string }) => (lookups.push(args.email), { ok: true, user: { id: owner.current } }),
    },
  };
  const api = { call: (_method: string, fn: (c: unknown) => Promise<unknown>) => fn(client) } as unknown as SlackApi;
  const sam = { id: 'sam', name: 'Sam', email: 'Sam@Example.com', roles: [] };
  const pinned = { id: 'pia', name: 'Pia', email: 'pia@example.com', roles: [], slack: { userId: 'U0PIA0001' } };
  const directory = { person: (id: string) => (id === 'sam' ? sam : id === 'pia' ? pinned : undefined), personByIdentity: () => undefined, peopleByEmail: () => [] };
  const config = { current: () => ({ directory }) } as unknown as ConfigView;
  return { channel: new SlackChannel({ api, config, names: {} as ChannelNames, logger: pino({ level: 'silent' }) }), lookups };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Slack accountOf', () => {
  it('names the pinned account without asking Slack, and nobody for an id not in the directory', async () => {
    const { channel, lookups } = channelWith({ current: 'U0SAM0001' });
    expect(await channel.accountOf('pia')).toBe('slack:U0PIA0001');
    expect(await channel.accountOf('nobody')).toBeNull();
    expect(lookups).toEqual([]);
  });

  it('reuses a lookup for a minute, then asks again: a mailbox given to someone else is seen', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const owner = { current: 'U0SAM0001' };
    const { channel, lookups } = channelWith(owner);
    expect(await channel.accountOf('sam')).toBe('slack:U0SAM0001');
    owner.current = 'U0SAM0002';
    vi.advanceTimersByTime(59_000);
    expect(await channel.accountOf('sam')).toBe('slack:U0SAM0001');
    vi.advanceTimersByTime(2_000);
    expect(await channel.accountOf('sam')).toBe('slack:U0SAM0002');
    expect(lookups).toEqual(['sam@example.com', 'sam@example.com']);
  });
});
