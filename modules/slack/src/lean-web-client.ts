import http from 'node:http';
import https from 'node:https';
import { stringify } from 'node:querystring';
import { ErrorCode, WebClient, type WebAPICallResult, type WebClientOptions } from '@slack/web-api';
import { retryAfterMs } from './countersign-sdk.ts';
import { BAD_RESPONSE_ERROR, clipDetail } from './slack-errors.ts';

// The WebClient with its HTTP layer replaced: every method (chat.postMessage, chat.update, …)
// still goes through WebClient.apiCall, which we override to send the request on a keep-alive
// connection with node:http directly. Axios, p-queue and the retry machinery behind the stock
// apiCall cost ~0.9 ms of CPU per call on the bench machine (1.3 ms vs 0.43 ms for the call
// and the fake Slack answering it), and a card, its update and a DM are three calls per
// escalation. We ask the WebClient for no retries and no waiting on 429 anyway (web-client.ts):
// the queue owns retries. What callers see is unchanged: the same result objects, and the same
// errors (slack_webapi_platform_error / _rate_limited_error / _http_error / _request_error
// with the same fields), which slack-errors.ts sorts into retry and give up. Two differences:
// a 2xx whose body is not Slack's JSON object is an error of its own (BAD_RESPONSE_ERROR),
// never a platform error coded with the body; and Retry-After is read as delta-seconds or an
// HTTP date (the shared parser), left undefined when absent or unreadable.

export interface LeanWebClientOptions extends WebClientOptions {
  slackApiUrl?: string;
  timeout?: number;
}

function apiError(code: ErrorCode, message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { code }, fields);
}

/**
 * The body as the stock client sends it: form-encoded, objects and arrays as JSON, null and
 * undefined left out (Slack accepts form bodies on every method; JSON only on some).
 */
function formBody(options: Record<string, unknown>): string {
  const flat: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === null || key === 'token') continue;
    flat[key] = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
  }
  return stringify(flat);
}

/**
 * Retry-After in seconds (to the millisecond, for an HTTP date), read with the one shared
 * parser: delta-seconds or an HTTP date, capped. Undefined when absent or unreadable, so the
 * caller's default applies (never 0: a 429 without a readable wait must not be retried at once).
 */
function retryAfterSeconds(headers: http.IncomingHttpHeaders): number | undefined {
  const raw = headers['retry-after'];
  const ms = retryAfterMs(Array.isArray(raw) ? raw[0] : raw);
  return ms === undefined ? undefined : ms / 1000;
}

/** What a 2xx that is not Slack's JSON object answer looks like, for logs (clipped, one line). */
function describeBody(headers: http.IncomingHttpHeaders, text: string): string {
  const type = String(headers['content-type'] ?? 'no content-type').split(';')[0]!.trim();
  return `${type}, ${Buffer.byteLength(text)} bytes: ${clipDetail(text)}`;
}

export class LeanWebClient extends WebClient {
  private readonly apiUrl: URL;
  private readonly botToken: string | undefined;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;

  constructor(token: string | undefined, options: LeanWebClientOptions = {}) {
    super(token, options);
    this.botToken = token;
    this.apiUrl = new URL(options.slackApiUrl ?? 'https://slack.com/api/');
    this.timeoutMs = options.timeout ?? 0;
    this.agent = this.apiUrl.protocol === 'http:' ? new http.Agent({ keepAlive: true, maxSockets: 50 }) : new https.Agent({ keepAlive: true, maxSockets: 50 });
  }

  override async apiCall(method: string, options: Record<string, unknown> = {}): Promise<WebAPICallResult> {
    if (typeof options !== 'object' || options === null) throw new TypeError(`Expected an options argument but instead received a ${typeof options}`);
    const token = (options.token as string | undefined) ?? this.botToken;
    const { status, headers, text } = await this.post(new URL(method, this.apiUrl), formBody(options), token);
    if (status === 429) {
      // rejectRateLimitedCalls: the caller waits (the queue's pacer), never this call. No
      // readable Retry-After leaves retryAfter undefined: slack-errors.ts picks the wait.
      const seconds = retryAfterSeconds(headers);
      throw apiError(ErrorCode.RateLimitedError, `A rate limit was exceeded (url: ${method}, retry-after: ${seconds ?? 'none'})`, { retryAfter: seconds });
    }
    if (status < 200 || status > 299) {
      throw apiError(ErrorCode.HTTPError, `An HTTP protocol error occurred: statusCode = ${status}`, { statusCode: status, headers, body: text });
    }
    // Slack answers every call with a JSON object carrying `ok`. Anything else after a 2xx (a
    // proxy's or gateway's page, a body cut short) says nothing about whether the call was
    // done: it is a failure of its own (slack-errors.ts: retryable, and a post is looked for
    // before it is sent again), and its text is never taken for Slack's error code.
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || typeof (parsed as { ok?: unknown }).ok !== 'boolean') {
      throw Object.assign(new Error(`HTTP ${status} with a body that is not Slack's JSON answer (${describeBody(headers, text)})`), { code: BAD_RESPONSE_ERROR, statusCode: status });
    }
    const result = parsed as WebAPICallResult;
    result.response_metadata ??= {};
    if (!result.ok) throw apiError(ErrorCode.PlatformError, `An API error occurred: ${clipDetail(String(result.error))}`, { data: result });
    return result;
  }

  private post(url: URL, body: string, token: string | undefined): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const failed = (original: Error) => {
        clearTimeout(timer);
        reject(apiError(ErrorCode.RequestError, `A request error occurred: ${original.message}`, { original }));
      };
      const req = transport.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', failed);
        },
      );
      // Like the stock client's timeout: the whole call, after which it is a request error
      // (the request may have reached Slack: slack-errors.ts treats it as ambiguous).
      if (this.timeoutMs > 0) timer = setTimeout(() => req.destroy(new Error(`timeout of ${this.timeoutMs}ms exceeded`)), this.timeoutMs);
      req.on('error', failed);
      req.end(body);
    });
  }
}
