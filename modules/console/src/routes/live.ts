import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from '../deps.ts';
import { signedIn } from '../signed-in.ts';

// Server-sent events: "changed" whenever an action is submitted, voted on or decided (the
// outbox's NOTIFY, so no polling), and the inbox re-reads its rows. A comment every 25 s keeps
// proxies from closing an idle stream.
export function liveRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/console/events', async (request, reply) => {
    const who = await signedIn(deps, request);
    if (!who) return reply.code(401).type('text/plain').send('sign in first');
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
    const unsubscribe = deps.onChange(() => {
      // Many events in a burst (a decision writes several) become one refresh.
      pending ??= setTimeout(() => {
        pending = undefined;
        res.write('event: changed\ndata: {}\n\n');
      }, 150);
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    const end = () => {
      clearInterval(keepAlive);
      clearTimeout(pending);
      unsubscribe();
    };
    request.raw.once('close', end);
  });
}
