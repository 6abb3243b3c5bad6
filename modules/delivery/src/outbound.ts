// One outbound HTTP request to an organisation's endpoint, and what its result means for the
// queue: delivered, retry later, or give up. Redirects are never followed: the allow-list
// vetted this URL, not wherever it might point next.

export interface OutboundRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export type OutboundResult =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'retry'; status: number | null; error: string; retryAfterMs?: number }
  | { outcome: 'give_up'; status: number | null; error: string };

export type Send = (req: OutboundRequest) => Promise<OutboundResult>;

export async function send(req: OutboundRequest): Promise<OutboundResult> {
  let response: Response;
  try {
    response = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    return { outcome: 'retry', status: null, error: `network: ${networkReason(err)}` };
  }
  // The body is never read: it is the receiver's, and nothing here depends on it.
  await response.body?.cancel().catch(() => undefined);
  return classify(response.status, response.headers.get('retry-after'));
}

/** 2xx delivered; 408, 429 and 5xx retried (honouring Retry-After); any other status is final. */
export function classify(status: number, retryAfter: string | null = null): OutboundResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = retryAfterToMs(retryAfter);
    return { outcome: 'retry', status, error: `HTTP ${status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (status >= 300 && status < 400) return { outcome: 'give_up', status, error: `HTTP ${status}: redirects are not followed` };
  return { outcome: 'give_up', status, error: `HTTP ${status}` };
}

function retryAfterToMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3600) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.min(3_600_000, Math.max(0, at - Date.now()));
}

/** A short, secret-free reason: the error code, never the URL or body. */
function networkReason(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const o = e as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown[] };
    if (o.name === 'TimeoutError') return 'timeout';
    if (typeof o.code === 'string') return o.code;
    e = o.cause ?? o.errors?.[0];
  }
  return err instanceof Error ? err.name : 'unknown error';
}
