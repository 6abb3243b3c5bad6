import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { PersonSessions } from '@countersign/core';
import { readCookie, SESSION_COOKIE } from '../cookies.ts';
import type { ConsoleDeps } from '../deps.ts';
import { signedIn } from '../signed-in.ts';

// Server-sent events: "changed" whenever an action is submitted, voted on or decided (the
// outbox's NOTIFY, so no polling), and the inbox re-reads its rows. A comment every 25 s keeps
// proxies from closing an idle stream. The stream lasts only as long as its session: before
// each event it asks again (without counting as activity, so an open tab still goes idle), and
// once the session has ended (signed out, idle, expired, its person gone) it says "ended" and
// closes, so that nobody signed out goes on learning when things change.
//
// The streams of one session are held together (LiveStreams): one session check per change
// burst and per keep-alive serves all of them, and a session holds at most
// LIVE_STREAMS_PER_SESSION. Each stream used to ask Postgres on its own, with no limit on how
// many a session opened: 250 streams of one session raised submission latency 4× at p50 and
// 17× at max (review s13).

/**
 * Streams one session may hold on this process. A new stream past it closes the session's
 * oldest (with `event: replaced`, so that tab says live updates stopped there and does not
 * reconnect) rather than being refused: the tab a reviewer has just opened or reloaded is the
 * one they are looking at, while the oldest is the one most likely forgotten; and a refused
 * EventSource (a 429) stays dead with nothing said on the page. Four covers a reviewer's inbox
 * in a few tabs and leaves two of a browser's six HTTP/1.1 connections per server for the pages
 * and their refreshes.
 */
export const LIVE_STREAMS_PER_SESSION = 4;
/**
 * Streams one person may hold on this process, across their sessions: signing in again opens a
 * new session, so a per-session cap alone let one person hold any number (a script signing in
 * in a loop). Two sessions' worth (a laptop and a phone); past it the person's oldest stream,
 * whichever session it belongs to, is replaced as above.
 */
export const LIVE_STREAMS_PER_PERSON = 2 * LIVE_STREAMS_PER_SESSION;
const KEEP_ALIVE_MS = 25_000;
/** Many changes in a burst (a decision writes several) become one check and one refresh. */
const BURST_MS = 150;

const CHANGED = 'event: changed\ndata: {}\n\n';
const KEEP_ALIVE = ': keep-alive\n\n';
const ENDED = 'event: ended\ndata: {}\n\n';
const REPLACED = 'event: replaced\ndata: {}\n\n';

interface SessionStreams {
  sessionId: string;
  personId: string;
  cookie: string;
  /** Oldest first. */
  streams: ServerResponse[];
  pending: NodeJS.Timeout | undefined;
  keepAlive: NodeJS.Timeout;
  unsubscribe: () => void;
  closed: boolean;
}

/** The live streams of this process, by session. */
export class LiveStreams {
  private readonly bySession = new Map<string, SessionStreams>();
  /** Each person's streams over all their sessions, oldest first. */
  private readonly byPerson = new Map<string, Array<{ group: SessionStreams; res: ServerResponse }>>();
  /** Session checks that found the session holding (one per session per change burst or keep-alive), and the stream writes they served. */
  readonly stats = { checks: 0, served: 0 };

  constructor(
    private readonly sessions: Pick<PersonSessions, 'authenticate'>,
    private readonly onChange: ConsoleDeps['onChange'],
    readonly perSession = LIVE_STREAMS_PER_SESSION,
    readonly perPerson = LIVE_STREAMS_PER_PERSON,
  ) {}

  /** Open streams of one person, over all their sessions. */
  countOf(personId: string): number {
    return this.byPerson.get(personId)?.length ?? 0;
  }

  /** Open streams: of one session, or of every session. */
  count(sessionId?: string): number {
    if (sessionId !== undefined) return this.bySession.get(sessionId)?.streams.length ?? 0;
    let n = 0;
    for (const s of this.bySession.values()) n += s.streams.length;
    return n;
  }

  /** Holds `res` (headers already sent) for the session; returns what to call once it has closed. */
  open(sessionId: string, personId: string, cookie: string, res: ServerResponse): () => void {
    let group = this.bySession.get(sessionId);
    if (!group) {
      const g: SessionStreams = {
        sessionId,
        personId,
        cookie,
        streams: [],
        pending: undefined,
        keepAlive: setInterval(() => void this.send(g, KEEP_ALIVE), KEEP_ALIVE_MS),
        unsubscribe: this.onChange(() => {
          g.pending ??= setTimeout(() => {
            g.pending = undefined;
            void this.send(g, CHANGED);
          }, BURST_MS);
        }),
        closed: false,
      };
      this.bySession.set(sessionId, g);
      group = g;
    }
    const held = group;
    held.streams.push(res);
    const mine = this.byPerson.get(held.personId) ?? [];
    this.byPerson.set(held.personId, mine);
    mine.push({ group: held, res });
    while (held.streams.length > this.perSession) this.end(held, held.streams[0]!, REPLACED);
    while (mine.length > this.perPerson) this.end(mine[0]!.group, mine[0]!.res, REPLACED);
    return () => this.drop(held, res);
  }

  /** The session ended here (signed out): its streams say "ended" now, not at the next change. */
  endSession(sessionId: string): void {
    const group = this.bySession.get(sessionId);
    if (group) for (const res of [...group.streams]) this.end(group, res, ENDED);
  }

  /** Writes `text` to every stream of the session if it still holds; otherwise ends them. */
  private async send(group: SessionStreams, text: string): Promise<void> {
    let still: unknown;
    try {
      still = await this.sessions.authenticate(group.cookie, { touch: false });
    } catch {
      // Cannot tell (database down): the streams end without "ended"; the browsers reconnect
      // in a few seconds and are asked again from the start.
      for (const res of [...group.streams]) this.end(group, res);
      return;
    }
    if (group.closed) return;
    if (!still) {
      for (const res of [...group.streams]) this.end(group, res, ENDED);
      return;
    }
    this.stats.checks++;
    this.stats.served += group.streams.length;
    for (const res of group.streams) res.write(text);
  }

  private end(group: SessionStreams, res: ServerResponse, last?: string): void {
    this.drop(group, res);
    res.end(last);
  }

  private drop(group: SessionStreams, res: ServerResponse): void {
    const at = group.streams.indexOf(res);
    if (at >= 0) group.streams.splice(at, 1);
    const mine = this.byPerson.get(group.personId);
    const held = mine?.findIndex((m) => m.res === res) ?? -1;
    if (held >= 0) mine!.splice(held, 1);
    if (mine?.length === 0) this.byPerson.delete(group.personId);
    if (group.streams.length > 0 || group.closed) return;
    group.closed = true;
    clearInterval(group.keepAlive);
    clearTimeout(group.pending);
    group.unsubscribe();
    if (this.bySession.get(group.sessionId) === group) this.bySession.delete(group.sessionId);
  }
}

export function liveRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/console/events', async (request, reply) => {
    // Opening (or reopening: the browser reconnects by itself) is not the person's activity either.
    const who = await signedIn(deps, request, { activity: false });
    if (!who) return reply.code(401).type('text/plain').send('sign in first');
    const cookie = readCookie(request, SESSION_COOKIE)!;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write('retry: 3000\n\n');
    // The client may have gone while its session was checked: nothing to hold then.
    const socket = request.raw.socket;
    if (!socket || socket.destroyed) return void res.end();
    res.once('close', deps.live.open(who.caller.session.id, who.caller.principal.id, cookie, res));
  });
}
