import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChannelCatalog, type ChannelDefinition } from '@countersign/contracts';
import { channelPacing } from '../src/pacing.ts';
import { parseWorkerSettings } from '../src/settings.ts';

const channel = (name: string, pacing?: ChannelDefinition['pacing']): ChannelDefinition<string> => ({
  name,
  hints: z.array(z.string()),
  identity: z.string(),
  identityKey: (id) => ({ key: id, path: [], label: id }),
  ...(pacing ? { pacing } : {}),
});
const catalog = new ChannelCatalog([channel('chat', { intervalMs: 1000, updates: false }), channel('meet', { intervalMs: 1000, updates: true }), channel('pager')]);
const pacing = (env: NodeJS.ProcessEnv) => channelPacing(catalog, parseWorkerSettings(env));

describe('channel pacing', () => {
  it("each channel's definition decides, unless the environment names it", () => {
    expect(pacing({})).toEqual({ intervals: { chat: 1000, meet: 1000 }, pacedUpdates: new Set(['meet']) });
    // Naming one channel keeps the defaults of the others.
    expect(pacing({ COUNTERSIGN_CHANNEL_PACING_MS: 'meet=2000' }).intervals).toEqual({ chat: 1000, meet: 2000 });
    expect(pacing({ COUNTERSIGN_CHANNEL_PACING_MS: 'chat=0,pager=500' }).intervals).toEqual({ chat: 0, meet: 1000, pager: 500 });
    expect(pacing({ COUNTERSIGN_PACE_UPDATES: 'chat, pager' }).pacedUpdates).toEqual(new Set(['chat', 'pager']));
    expect(pacing({ COUNTERSIGN_PACE_UPDATES: '' }).pacedUpdates).toEqual(new Set());
  });
});
