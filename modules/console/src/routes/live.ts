import type { FastifyInstance } from 'fastify';
import { readCookie, SESSION_COOKIE } from '../cookies.ts';
import type { ConsoleDeps } from '../deps.ts';
import { signedIn } from '../signed-in.ts';

// Server-sent events: "changed" whenever an action is submitted, voted on or decided (the
// outbox's NOTIFY, so no polling), and the inbox re-reads its rows. A comment every 25 s keeps
// proxies from closing an idle stream. The stream lasts only as long as its session: before
// each event it asks again (without counting as activity, so an open tab still goes idle), and
// once the session has ended (signed out, idle, expired, its person gone) it says "ended" and
// closes, so that nobody signed out goes on learning when things change.
export function liveRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/console/events', async (request, reply) => {
    // Opening (or reopening: the browser reconnects by itself) is not the person's activity either.
    const who = await signedIn(deps, request, { activity: false });
    if (!who) return reply.code(401).type('text/plain').send('sign in first');
    const cookie = readCookie(request, SESSION_COOKIE);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write('retry: 3000\n\n');
    let pending: NodeJS.Timeout | undefined;
    let ended = false;
    /** Writes `text` if the session still holds; otherwise ends the stream. */
    const send = async (text: string) => {
      let still: unknown;
      try {
        still = await deps.sessions.authenticate(cookie, { touch: false });
      } catch {
        // Cannot tell (database down): the stream ends without "ended"; the browser reconnects
        // in a few seconds and is asked again from the start.
        if (!ended) {
          res.end();
          end();
        }
        return;
      }
      if (ended) return;
      if (!still) {
        res.end('event: ended\ndata: {}\n\n');
        end();
        return;
      }
      res.write(text);
    };
    const unsubscribe = deps.onChange(() => {
      // Many events in a burst (a decision writes several) become one refresh.
      pending ??= setTimeout(() => {
        pending = undefined;
        void send('event: changed\ndata: {}\n\n');
      }, 150);
    });
    const keepAlive = setInterval(() => void send(': keep-alive\n\n'), 25_000);
    const end = () => {
      ended = true;
      clearInterval(keepAlive);
      clearTimeout(pending);
      unsubscribe();
    };
    request.raw.once('close', end);
  });
}
