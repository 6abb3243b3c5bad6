import type { ApprovalChannel, CardModel, CardRef, ChannelError, ChannelName, ChannelTarget, Notice } from '@countersign/core';
import type { ServiceModule } from '@countersign/modules';
import type { Truthy } from '../support/truthy.ts';

// A chat channel for queue-engine tests: implements ApprovalChannel, records every call, and
// can be told to fail (ChannelError, plain errors) for chosen operations and targets. Targets
// resolve predictably: channel hints as-is, people as `@<personId>` direct messages.

export type ChannelOp = 'resolveTargets' | 'postCard' | 'updateCard' | 'remind' | 'notifyPerson';

export interface ChannelCall {
  op: ChannelOp;
  at: number;
  actionId?: string;
  target?: string;
  personId?: string;
  status?: string;
  actionable?: boolean;
  filled?: number;
  text?: string;
  card?: CardModel;
}

interface Failure {
  op: ChannelOp;
  target: string | undefined;
  error: () => Error;
  times: number;
}

export class RecordingChannel implements ApprovalChannel {
  readonly calls: ChannelCall[] = [];
  private readonly failures: Failure[] = [];
  private seq = 0;

  constructor(
    readonly name: ChannelName = 'slack',
    private readonly opts: { unreachable?: string[]; delayMs?: number } = {},
  ) {}

  /** The next `times` calls of `op` (to `target`, if given) throw the error. */
  failNext(op: ChannelOp, error: () => Error | ChannelError, opts: { target?: string; times?: number } = {}): void {
    this.failures.push({ op, target: opts.target, error, times: opts.times ?? 1 });
  }

  private async enter(op: ChannelOp, target: string | undefined): Promise<void> {
    if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
    const f = this.failures.find((x) => x.op === op && x.times > 0 && (x.target === undefined || x.target === target));
    if (f) {
      f.times--;
      throw f.error();
    }
  }

  async resolveTargets(hints: { channels: string[]; people: string[] }): Promise<ChannelTarget[]> {
    this.calls.push({ op: 'resolveTargets', at: Date.now() });
    await this.enter('resolveTargets', undefined);
    return [...hints.channels.map((c) => ({ target: c })), ...hints.people.map((p) => ({ target: `@${p}`, personId: p }))];
  }

  async postCard(card: CardModel, target: ChannelTarget): Promise<CardRef> {
    const call: ChannelCall = { op: 'postCard', at: Date.now(), actionId: card.actionId, target: target.target, status: card.status, actionable: card.actionable, card };
    await this.enter('postCard', target.target);
    this.calls.push(call);
    return { target: target.target, messageId: `m${++this.seq}` };
  }

  async updateCard(card: CardModel, ref: CardRef): Promise<void> {
    const target = String(ref.target);
    await this.enter('updateCard', target);
    this.calls.push({ op: 'updateCard', at: Date.now(), actionId: card.actionId, target, status: card.status, actionable: card.actionable, filled: card.requirement?.filled, card });
  }

  async remind(card: CardModel, ref: CardRef, text: string): Promise<void> {
    const target = String(ref.target);
    await this.enter('remind', target);
    this.calls.push({ op: 'remind', at: Date.now(), actionId: card.actionId, target, text });
  }

  async notifyPerson(personId: string, notice: Notice): Promise<boolean> {
    await this.enter('notifyPerson', `@${personId}`);
    const reached = !this.opts.unreachable?.includes(personId);
    if (reached) this.calls.push({ op: 'notifyPerson', at: Date.now(), actionId: notice.actionId, personId, status: notice.card.status, text: notice.text });
    return reached;
  }

  /** Successful calls of one kind, optionally for one action. */
  done(op: ChannelOp, actionId?: string): ChannelCall[] {
    return this.calls.filter((c) => c.op === op && (actionId === undefined || c.actionId === actionId));
  }
}

/** Registers the channel like a real channel module does (in register()). */
export function channelModule(channel: ApprovalChannel): ServiceModule {
  return {
    name: `fake-${channel.name}`,
    register(ctx) {
      ctx.channels.set(channel.name, channel);
    },
  };
}

/** Polls until `check` returns a truthy value (then returns it) or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 50): Promise<Truthy<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as Truthy<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
