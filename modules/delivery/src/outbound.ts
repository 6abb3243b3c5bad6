import { fetch } from 'undici';
import { networkErrorCode, retryAfterMs } from './countersign-sdk.ts';
import { guardedAgent, INTERNAL_ADDRESS } from './guarded-agent.ts';

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
  let response: Awaited<ReturnType<typeof fetch>>;
  try {
    response = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(req.timeoutMs),
      // Connects only to addresses the guarded lookup accepted (see guarded-agent.ts).
      dispatcher: guardedAgent,
    });
  } catch (err) {
    // An allowed name pointing inside our network is a configuration or DNS attack: retrying
    // cannot make it safe.
    if (networkErrorCode(err) === INTERNAL_ADDRESS) {
      return { outcome: 'give_up', status: null, error: 'refused: the destination resolves to an internal address' };
    }
    // A short, secret-free reason: the error code, never the URL or body.
    return { outcome: 'retry', status: null, error: `network: ${networkErrorCode(err) ?? (err instanceof Error ? err.name : 'unknown error')}` };
  }
  // The body is never read: it is the receiver's, and nothing here depends on it.
  await response.body?.cancel().catch(() => undefined);
  return classify(response.status, response.headers.get('retry-after'));
}

/** 2xx delivered; 408, 429 and 5xx retried (honouring Retry-After); any other status is final. */
export function classify(status: number, retryAfter: string | null = null): OutboundResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  if (status === 408 || status === 429 || status >= 500) {
    const wait = retryAfterMs(retryAfter);
    return { outcome: 'retry', status, error: `HTTP ${status}`, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
  }
  if (status >= 300 && status < 400) return { outcome: 'give_up', status, error: `HTTP ${status}: redirects are not followed` };
  return { outcome: 'give_up', status, error: `HTTP ${status}` };
}

