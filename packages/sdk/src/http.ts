import { backoffDelay, sleep } from './backoff.ts';
import { ApiError, NetworkError } from './errors.ts';
import { networkErrorCode, networkFailure } from './network-failure.ts';
import { retryAfterMs } from './retry-after.ts';
import type { Problem } from './types.ts';

// One place that talks HTTP: bearer auth, JSON, per-request timeouts, problem documents, and
// which failures may be retried. What is safe to retry depends on the call, so each call says.

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * - `always`: network errors, timeouts, 408, 429 and 5xx (safe when a retry cannot act twice,
 *   e.g. reads, or submissions carrying an Idempotency-Key);
 * - `unsent`: only failures where the request never reached the server (connection refused,
 *   DNS) and 429/503 (the server says it did nothing);
 * - `never`.
 */
export type RetryMode = 'always' | 'unsent' | 'never';

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Per-attempt timeout; defaults to the client's. */
  timeoutMs?: number;
  retry?: RetryMode;
  /** Retries after the first attempt. */
  maxRetries?: number;
}

export interface HttpConfig {
  baseUrl: string;
  apiKey: string;
  fetch: FetchLike;
  timeoutMs: number;
  maxRetries: number;
  backoff: { baseMs: number; maxMs: number };
}

export interface HttpResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

type Failure =
  | { kind: 'network'; error: unknown; unsent: boolean }
  | { kind: 'status'; status: number; error: ApiError; retryAfterMs: number | undefined };

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export class Http {
  constructor(private readonly config: HttpConfig) {}

  async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<HttpResult<T>> {
    const mode = opts.retry ?? 'never';
    const maxRetries = mode === 'never' ? 0 : (opts.maxRetries ?? this.config.maxRetries);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.once<T>(method, path, opts);
      if (!('kind' in outcome)) return outcome;
      if (attempt >= maxRetries || !retryable(outcome, mode)) throw toError(outcome, method, path);
      const wait = outcome.kind === 'status' && outcome.retryAfterMs !== undefined
        ? Math.min(outcome.retryAfterMs, this.config.backoff.maxMs)
        : backoffDelay(attempt, this.config.backoff);
      await sleep(wait, opts.signal);
    }
  }

  private async once<T>(method: string, path: string, opts: CallOptions): Promise<HttpResult<T> | Failure> {
    opts.signal?.throwIfAborted();
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${this.config.apiKey}`,
      ...opts.headers,
    };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.config.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.config.fetch(this.config.baseUrl + path, { method, headers, body, signal });
      text = await response.text();
    } catch (error) {
      // The caller's own abort is not a failure to retry: it is the answer.
      if (opts.signal?.aborted) throw opts.signal.reason;
      return { kind: 'network', error, unsent: networkFailure(error)?.sent === false };
    }
    if (response.ok) {
      try {
        return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
      } catch {
        // A 2xx that is not JSON (a proxy's or portal's page) is no answer from countersign.
        const detail = `HTTP ${response.status} with a body that is not JSON: not an answer from countersign`;
        const problem = { type: 'about:blank', title: 'Invalid response', status: response.status, detail, code: 'invalid_response' };
        return { kind: 'status', status: response.status, error: new ApiError(problem), retryAfterMs: undefined };
      }
    }
    return {
      kind: 'status',
      status: response.status,
      error: new ApiError(problemOf(response, text)),
      retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
    };
  }
}

function retryable(failure: Failure, mode: RetryMode): boolean {
  if (mode === 'never') return false;
  if (failure.kind === 'network') return mode === 'always' || failure.unsent;
  if (mode === 'always') return RETRYABLE_STATUS.has(failure.status) || failure.status >= 500;
  return failure.status === 429 || failure.status === 503;
}

function toError(failure: Failure, method: string, path: string): Error {
  if (failure.kind === 'status') return failure.error;
  const cause = failure.error;
  const why = cause instanceof Error ? (networkErrorCode(cause) ?? cause.message) : String(cause);
  return new NetworkError(`${method} ${path}: countersign is unreachable (${why})`, { cause });
}

function problemOf(response: Response, text: string): Problem {
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (parsed && typeof parsed.code === 'string') {
      return { ...parsed, status: response.status, title: parsed.title ?? response.statusText, detail: parsed.detail ?? '', type: parsed.type ?? 'about:blank', code: parsed.code };
    }
  } catch {
    // Not a problem document (a proxy's HTML error page): described below from the status.
  }
  return { type: 'about:blank', title: response.statusText, status: response.status, detail: `HTTP ${response.status} ${response.statusText}`, code: `http_${response.status}` };
}
