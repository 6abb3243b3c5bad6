import { ChannelError, type ApprovalChannel, type CardModel, type CardRef, type ChannelName, type ChannelTarget, type Notice, type PostCardOptions } from '@countersign/core';

// A chat channel for the queue's send-once and card-lock tests: it keeps the messages it was
// given (like a chat service would), so a test can read what each card shows in the end; it
// can be slow, can run a hook while a post is in flight, and can accept a message but lose
// the answer (an ambiguous failure). It finds messages by the card id stamped on them
// (findCard) and deletes them (deleteCard), unless built without those abilities.

export interface ChatMessage {
  id: string;
  target: string;
  cardId: string | undefined;
  /** What the message shows now (the post, then each update). */
  card: CardModel;
  kind: 'card' | 'notice';
  deleted: boolean;
}

export interface ChannelEvent {
  op: 'post' | 'update' | 'delete' | 'notify' | 'find';
  target: string;
  messageId?: string;
  start: number;
  end: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ScriptedChannel implements ApprovalChannel {
  readonly messages = new Map<string, ChatMessage>();
  readonly events: ChannelEvent[] = [];
  /** Each post waits this long (a slow chat service). */
  postDelayMs = 0;
  /** Runs after a post was accepted, before it is answered. */
  duringPost: ((target: string) => Promise<void> | void) | undefined;
  /** The next N sends (cards and notices) are accepted but their answer is lost. */
  loseAnswers = 0;
  findCard: ApprovalChannel['findCard'];
  deleteCard: ApprovalChannel['deleteCard'];
  private seq = 0;

  constructor(
    readonly name: ChannelName = 'slack',
    abilities: { find?: boolean; delete?: boolean } = {},
  ) {
    this.findCard = abilities.find === false ? undefined : (target, cardId, since) => this.find(target, cardId, since);
    this.deleteCard = abilities.delete === false ? undefined : (ref) => this.remove(ref);
  }

  async resolveTargets(hints: { channels: string[]; people: string[] }): Promise<ChannelTarget[]> {
    return [...hints.channels.map((c) => ({ target: c })), ...hints.people.map((p) => ({ target: `@${p}`, personId: p }))];
  }

  private async send(kind: 'card' | 'notice', card: CardModel, target: string, cardId: string | undefined): Promise<CardRef> {
    const start = Date.now();
    if (this.postDelayMs) await sleep(this.postDelayMs);
    const id = `m${++this.seq}`;
    this.messages.set(id, { id, target, cardId, card, kind, deleted: false });
    await this.duringPost?.(target);
    this.events.push({ op: kind === 'card' ? 'post' : 'notify', target, messageId: id, start, end: Date.now() });
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      throw new ChannelError('request timed out', true, 'network', undefined, { ambiguous: true });
    }
    return { target, messageId: id };
  }

  postCard(card: CardModel, target: ChannelTarget, options: PostCardOptions = {}): Promise<CardRef> {
    return this.send('card', card, target.target, options.cardId);
  }

  async updateCard(card: CardModel, ref: CardRef): Promise<void> {
    const start = Date.now();
    const m = this.messages.get(String(ref.messageId));
    if (!m || m.deleted) throw new ChannelError('message not found', false, 'message_not_found');
    m.card = card;
    this.events.push({ op: 'update', target: m.target, messageId: m.id, start, end: Date.now() });
  }

  async remind(): Promise<void> {}

  async notifyPerson(personId: string, notice: Notice): Promise<boolean> {
    await this.send('notice', notice.card, `@${personId}`, notice.cardId);
    return true;
  }

  private async find(target: ChannelTarget, cardId: string, _since: Date): Promise<CardRef | null> {
    const start = Date.now();
    const m = [...this.messages.values()].find((x) => x.target === target.target && x.cardId === cardId && !x.deleted);
    this.events.push({ op: 'find', target: target.target, ...(m ? { messageId: m.id } : {}), start, end: Date.now() });
    return m ? { target: m.target, messageId: m.id } : null;
  }

  private async remove(ref: CardRef): Promise<void> {
    const start = Date.now();
    const m = this.messages.get(String(ref.messageId));
    if (m) m.deleted = true;
    this.events.push({ op: 'delete', target: String(ref.target), messageId: String(ref.messageId), start, end: Date.now() });
  }

  /** Live (not deleted) messages of one kind for one action. */
  live(actionId: string, kind: 'card' | 'notice' = 'card'): ChatMessage[] {
    return [...this.messages.values()].filter((m) => !m.deleted && m.kind === kind && m.card.actionId === actionId);
  }

  eventsOf(op: ChannelEvent['op']): ChannelEvent[] {
    return this.events.filter((e) => e.op === op);
  }
}
