import type { Counter, Registry } from 'prom-client';
import { ChannelError, type ApprovalChannel, type ChannelName } from '@countersign/core';
import { counter } from './registered.ts';

// Card posts and updates as the chat services answered them, counted where every channel is
// called: around each registered ApprovalChannel. A channel module needs no metrics code of its
// own, and a new channel is counted the day it is installed.

export type CardPostCounter = Counter<'channel' | 'result' | 'code'>;

export function cardPostCounter(registry: Registry): CardPostCounter {
  return counter(
    registry,
    'countersign_card_posts_total',
    'Approval card posts and updates by channel and result (ok, error); code is the channel\'s error code (rate_limited, channel_not_found, …), empty when ok.',
    ['channel', 'result', 'code'],
  );
}

/** Replaces every channel in `channels` by one that counts its postCard and updateCard calls. */
export function countCardPosts(channels: Map<ChannelName, ApprovalChannel>, posts: CardPostCounter): void {
  for (const [name, channel] of channels) channels.set(name, countedChannel(channel, posts));
}

const COUNTED = new Set<PropertyKey>(['postCard', 'updateCard']);

/**
 * A proxy rather than a copy: every other member (optional ones included, and any the interface
 * gains later) reaches the channel itself, unchanged.
 */
function countedChannel(channel: ApprovalChannel, posts: CardPostCounter): ApprovalChannel {
  const count = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      const result = await call();
      posts.inc({ channel: channel.name, result: 'ok', code: '' });
      return result;
    } catch (err) {
      // A channel reports its failures as ChannelError; anything else is a bug in it.
      posts.inc({ channel: channel.name, result: 'error', code: err instanceof ChannelError ? err.code : 'internal' });
      throw err;
    }
  };
  return new Proxy(channel, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (COUNTED.has(prop)) return (...args: unknown[]) => count(() => method.apply(target, args) as Promise<unknown>);
      return method.bind(target);
    },
  });
}
