import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DomainError } from '@countersign/contracts';
import { genReqId } from './logging.ts';
import { METRICS_UNAUTHENTICATED, metricsAuthorized } from './metrics-access.ts';
import { instanceOf, PROBLEM_CONTENT_TYPE, problemBody, WWW_AUTHENTICATE } from './problem.ts';

// COUNTERSIGN_METRICS_PORT: /metrics on a listener of its own, so the API's port (the one the
// internet or the agents reach) does not serve it at all. It answers GET /metrics and nothing
// else; the token, when configured, is required here too.

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: { host: string; port: number; registry: Registry; token?: string; logger: Logger }): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    void answer(req, res, opts).catch((err: unknown) => {
      opts.logger.error({ err }, 'metrics request failed');
      if (!res.headersSent) problem(res, req, new DomainError('internal', 'internal error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}/metrics`;
  opts.logger.info({ url }, 'metrics listening on their own port');
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, opts: { registry: Registry; token?: string }): Promise<void> {
  if (instanceOf(req.url ?? '/') !== '/metrics') return problem(res, req, new DomainError('not_found', 'Only /metrics is served on this port.'));
  if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, req, new DomainError('not_found', 'Only GET /metrics is served on this port.'));
  if (opts.token !== undefined && !metricsAuthorized(req.headers.authorization, opts.token)) return problem(res, req, METRICS_UNAUTHENTICATED);
  const text = await opts.registry.metrics();
  res.writeHead(200, { 'content-type': opts.registry.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function problem(res: ServerResponse, req: IncomingMessage, err: DomainError): void {
  const body = problemBody(err, { requestId: genReqId(req), instance: instanceOf(req.url ?? '/') });
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' };
  if (body.status === 401) headers['www-authenticate'] = WWW_AUTHENTICATE;
  res.writeHead(body.status, headers);
  res.end(JSON.stringify(body));
}
