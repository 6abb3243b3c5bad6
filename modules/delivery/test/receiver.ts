import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A real HTTP endpoint standing in for an agent's webhook receiver or an executor: it records
// every request and answers with the statuses it is told to, in order (then the last one), or
// with a redirect elsewhere (which countersign must never follow).

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  /** Requests to paths starting with `prefix`. */
  to(prefix: string): Received[];
  /** Statuses to answer on paths starting with `prefix`, in order; the last one repeats. */
  respond(prefix: string, statuses: number[]): void;
  /** Answer every request on paths starting with `prefix` with `status` and `Location: location`. */
  redirect(prefix: string, location: string, status?: number): void;
  /** Resolves once `count` requests reached `prefix` (or rejects after `timeoutMs`). */
  waitFor(prefix: string, count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const plans = new Map<string, number[]>();
  const redirects = new Map<string, { location: string; status: number }>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const moved = longestPrefix(redirects, path);
      if (moved !== undefined) {
        const { status, location } = redirects.get(moved)!;
        res.writeHead(status, { location, 'content-type': 'application/json' }).end('{"moved":true}');
        return;
      }
      const prefix = longestPrefix(plans, path);
      const plan = prefix === undefined ? undefined : plans.get(prefix);
      const status = plan && plan.length > 1 ? plan.shift()! : (plan?.[0] ?? 200);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status < 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const to = (prefix: string) => requests.filter((r) => r.path.startsWith(prefix));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    to,
    respond: (prefix, statuses) => void plans.set(prefix, [...statuses]),
    redirect: (prefix, location, status = 302) => void redirects.set(prefix, { location, status }),
    async waitFor(prefix, count, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (to(prefix).length < count) {
        if (Date.now() > until) throw new Error(`expected ${count} requests to ${prefix}, got ${to(prefix).length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return to(prefix);
    },
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

function longestPrefix(map: Map<string, unknown>, path: string): string | undefined {
  return [...map.keys()].filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
}
