import http from 'node:http';
import https from 'node:https';
import { stringify } from 'node:querystring';
import { ErrorCode, WebClient, type WebAPICallResult, type WebClientOptions } from '@slack/web-api';

// The WebClient with its HTTP layer replaced: every method (chat.postMessage, chat.update, …)
// still goes through WebClient.apiCall, which we override to send the request on a keep-alive
// connection with node:http directly. Axios, p-queue and the retry machinery behind the stock
// apiCall cost ~0.9 ms of CPU per call on the bench machine (1.3 ms vs 0.43 ms for the call
// and the fake Slack answering it), and a card, its update and a DM are three calls per
// escalation. We ask the WebClient for no retries and no waiting on 429 anyway (web-client.ts):
// the queue owns retries. What callers see is unchanged: the same result objects, and the same
// errors (slack_webapi_platform_error / _rate_limited_error / _http_error / _request_error
// with the same fields), which slack-errors.ts sorts into retry and give up.

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

/** Retry-After in seconds, as the stock client reads it (undefined when absent or not a number). */
function retryAfterSeconds(headers: http.IncomingHttpHeaders): number | undefined {
  const raw = headers['retry-after'];
  if (raw === undefined) return undefined;
  const seconds = Number.parseInt(String(raw), 10);
  return Number.isNaN(seconds) ? undefined : seconds;
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
      // rejectRateLimitedCalls: the caller waits (the queue's pacer), never this call.
      const seconds = retryAfterSeconds(headers) ?? 0;
      throw apiError(ErrorCode.RateLimitedError, `A rate limit was exceeded (url: ${method}, retry-after: ${seconds})`, { retryAfter: seconds });
    }
    if (status !== 200) {
      throw apiError(ErrorCode.HTTPError, `An HTTP protocol error occurred: statusCode = ${status}`, { statusCode: status, headers, body: text });
    }
    let result: WebAPICallResult;
    try {
      result = JSON.parse(text) as WebAPICallResult;
    } catch {
      result = { ok: false, error: text };
    }
    result.response_metadata ??= {};
    if (!result.ok) throw apiError(ErrorCode.PlatformError, `An API error occurred: ${String(result.error)}`, { data: result });
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
