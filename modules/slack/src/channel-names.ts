import type { SlackApi } from './slack-api.ts';

// Rules name channels as people do ("#prod-approvals"); Slack posts to ids. Names are resolved
// with conversations.list (channels:read, groups:read) and cached: listing a large workspace is
// rate limited (Tier 2), so one listing serves every action until the cache ages out, and a
// name that is still unknown triggers at most one new listing per MIN_RELIST_MS.

const MIN_RELIST_MS = 30_000;

export class ChannelNames {
  private byName = new Map<string, string>();
  private listedAt = Number.NEGATIVE_INFINITY;
  private listing: Promise<void> | undefined;

  constructor(
    private readonly api: SlackApi,
    private readonly ttlMs: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The channel id for a name (without "#"), or null when the workspace has no such channel. */
  async idOf(name: string): Promise<string | null> {
    const age = this.nowMs() - this.listedAt;
    const known = this.byName.get(name);
    if (known && age < this.ttlMs) return known;
    if (age >= this.ttlMs || age >= MIN_RELIST_MS) await this.relist();
    return this.byName.get(name) ?? null;
  }

  private relist(): Promise<void> {
    this.listing ??= this.list().finally(() => (this.listing = undefined));
    return this.listing;
  }

  private async list(): Promise<void> {
    const byName = new Map<string, string>();
    let cursor: string | undefined;
    do {
      const page = await this.api.call('conversations.list', (c) =>
        c.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) }),
      );
      for (const ch of page.channels ?? []) if (ch.id && ch.name) byName.set(ch.name, ch.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    this.byName = byName;
    this.listedAt = this.nowMs();
  }
}
