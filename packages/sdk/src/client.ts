import { randomUUID } from 'node:crypto';
import { backoffDelay, sleep } from './backoff.ts';
import { ApiError, CountersignError, decisionError, NetworkError, TimeoutError } from './errors.ts';
import { runReleased } from './guard.ts';
import { Http, type FetchLike } from './http.ts';
import { isFinal, type Action, type Authorization, type IntentInput, type Redemption } from './types.ts';

export interface CountersignOptions {
  /** Where countersign is, e.g. "https://countersign.example.com". */
  baseUrl: string;
  /** An API key (`cs_…`). It decides who is acting: never put identity in the intent. */
  apiKey: string;
  /** A fetch implementation (default: the global one). */
  fetch?: FetchLike;
  /** Timeout of each HTTP request, in ms (long-polls add their wait). Default 15 000. */
  timeoutMs?: number;
  /** Retries after a failed request, where retrying is safe. Default 5. */
  maxRetries?: number;
  /** Backoff between retries and reconnects (full jitter). Default 250 ms doubling to 10 s. */
  backoff?: { baseMs: number; maxMs: number };
}

export interface SubmitOptions {
  /** Defaults to a fresh UUID per call; retries of this call reuse it, so the server creates one action. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Stop waiting when this aborts (rejects with the signal's reason). The action itself is untouched. */
  signal?: AbortSignal;
  /** Give up after this many ms (TimeoutError). Default: wait until the action's own expiry decides it. */
  timeout?: number;
  /** Longest single long-poll, in seconds (the server caps it too). Default 50. */
  pollSeconds?: number;
}

export interface AuthorizeOptions extends WaitOptions {
  idempotencyKey?: string;
  /**
   * When waiting ends without a decision (timeout or abort), withdraw the pending action so
   * nobody approves something no one is waiting for. Default true.
   */
  withdrawOnGiveUp?: boolean;
  /** Called once when people must decide (the action is pending), e.g. to log its id. */
  onPending?: (action: Action) => void;
}

export interface RedeemOptions {
  /** The audience the token must carry (default: the server's release audience). */
  audience?: string;
  /** When given, the server also checks the token is bound to exactly this intent. */
  intent?: IntentInput;
  signal?: AbortSignal;
}

const DEFAULT_POLL_SECONDS = 50;
/** How many released actions a client remembers to refuse releasing them twice (oldest forgotten first). */
const MAX_REMEMBERED_RELEASES = 10_000;
/** A long-poll that comes back pending sooner than this is not waiting (server restarting, capped at 0): pace the loop. */
const MIN_POLL_INTERVAL_MS = 1000;

/**
 * A countersign client for agents and automations.
 *
 * ```ts
 * const cs = new Countersign({ baseUrl, apiKey });
 * const { releaseToken } = await cs.authorize({ action: { type: 'environment.delete', resource: 'env/prod-eu-1' } });
 * ```
 */
export class Countersign {
  private readonly http: Http;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly timeoutMs: number;
  /** Actions whose approval released a guarded call in this process (the newest, bounded). */
  private readonly released = new Set<string>();

  constructor(opts: CountersignOptions) {
    const baseUrl = checkedBaseUrl(opts.baseUrl);
    checkApiKey(opts.apiKey);
    const fetchImpl = opts.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (!fetchImpl) throw new TypeError('Countersign: no fetch available; pass options.fetch');
    this.backoff = checkedBackoff(opts.backoff ?? { baseMs: 250, maxMs: 10_000 });
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    // Read from the environment these are often NaN: a NaN retry count never stops retrying.
    if (!(Number.isFinite(this.timeoutMs) && this.timeoutMs > 0 && this.timeoutMs <= 2_147_483_647)) throw new TypeError('Countersign: timeoutMs must be a finite number of milliseconds > 0');
    const maxRetries = opts.maxRetries ?? 5;
    if (!(Number.isSafeInteger(maxRetries) && maxRetries >= 0)) throw new TypeError('Countersign: maxRetries must be a whole number ≥ 0');
    this.http = new Http({
      baseUrl,
      apiKey: opts.apiKey,
      fetch: fetchImpl,
      timeoutMs: this.timeoutMs,
      maxRetries,
      backoff: this.backoff,
    });
  }

  /**
   * Submits an intent and returns the action as decided so far (approved, refused, or pending
   * when people must decide). Network errors and 5xx are retried with the same Idempotency-Key,
   * so however often the request is sent, the server creates at most one action.
   */
  async submit(intent: IntentInput, opts: SubmitOptions = {}): Promise<Action> {
    const idempotencyKey = opts.idempotencyKey ?? randomUUID();
    const { body } = await this.http.call<Action>('POST', '/v1/actions', {
      body: intent,
      headers: { 'idempotency-key': idempotencyKey },
      signal: opts.signal,
      retry: 'always',
    });
    return body;
  }

  /** Reads an action once. */
  async get(id: string, opts: { signal?: AbortSignal } = {}): Promise<Action> {
    const { body } = await this.http.call<Action>('GET', `/v1/actions/${encodeURIComponent(id)}`, { signal: opts.signal, retry: 'always' });
    return body;
  }

  /**
   * Resolves with the action once it is final (approved, refused, expired or cancelled).
   * Long-polls the server and reconnects with backoff when the connection drops or the server
   * restarts, until the action is final, `timeout` passes (TimeoutError) or `signal` aborts.
   */
  async waitForDecision(id: string, opts: WaitOptions = {}): Promise<Action> {
    const deadline = opts.timeout === undefined ? Infinity : Date.now() + opts.timeout;
    const pollSeconds = Math.max(1, Math.floor(opts.pollSeconds ?? DEFAULT_POLL_SECONDS));
    const path = `/v1/actions/${encodeURIComponent(id)}`;
    const scope = deadlineScope(opts.signal, deadline);
    try {
      return await this.pollUntilFinal(id, path, pollSeconds, deadline, scope.signal, opts.signal);
    } finally {
      scope.dispose();
    }
  }

  private async pollUntilFinal(
    id: string,
    path: string,
    pollSeconds: number,
    deadline: number,
    signal: AbortSignal | undefined,
    userSignal: AbortSignal | undefined,
  ): Promise<Action> {
    let last: Action | undefined;
    let failures = 0;
    for (;;) {
      userSignal?.throwIfAborted();
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new TimeoutError(id, last);
      const wait = Math.min(pollSeconds, Math.floor(remaining / 1000));
      const started = Date.now();
      try {
        const { body } = await this.http.call<Action>('GET', `${path}?wait=${wait}`, {
          signal,
          timeoutMs: wait * 1000 + this.timeoutMs,
          retry: 'never',
        });
        last = body;
        failures = 0;
        if (isFinal(body.status)) return body;
        const elapsed = Date.now() - started;
        if (elapsed < MIN_POLL_INTERVAL_MS) await this.pause(MIN_POLL_INTERVAL_MS - elapsed, userSignal, deadline);
      } catch (error) {
        if (userSignal?.aborted) throw userSignal.reason;
        if (isDeadline(error)) throw new TimeoutError(id, last);
        if (!isTransient(error)) throw error;
        // Connection refused or reset, 5xx, 429: the server may be restarting. Keep waiting.
        await this.pause(backoffDelay(failures++, this.backoff), userSignal, deadline);
      }
    }
  }

  /**
   * Submits the intent and waits for the decision. Resolves with the release token when
   * approved; throws RefusedError, ExpiredError or CancelledError (with the reasons and the
   * action id) otherwise, and TimeoutError when `timeout` passes first. Unless
   * `withdrawOnGiveUp: false`, an action nobody waits for any more (timeout, abort, a wait
   * that failed) is withdrawn, also one whose submission the abort cut short.
   */
  async authorize(intent: IntentInput, opts: AuthorizeOptions = {}): Promise<Authorization> {
    // An empty key means none, as it always has.
    const idempotencyKey = opts.idempotencyKey || randomUUID();
    const withdraw = opts.withdrawOnGiveUp !== false;
    const abortedBefore = opts.signal?.aborted === true;
    let submitted: Action;
    try {
      submitted = await this.submit(intent, { signal: opts.signal, idempotencyKey });
    } catch (error) {
      // Aborted while the submission was in flight: the server may have created the action, and
      // nobody knows its id. The same key finds it (or makes it) so it can be withdrawn.
      if (withdraw && !abortedBefore && opts.signal?.aborted) await this.withdrawUnseen(intent, idempotencyKey);
      throw error;
    }
    let action = submitted;
    if (!isFinal(action.status)) {
      try {
        opts.onPending?.(action);
        action = await this.waitForDecision(submitted.id, opts);
      } catch (error) {
        // Whatever ended the wait (timeout, abort, an answer that is not an action), nobody
        // waits for this action any more: people must not be left deciding it.
        if (!withdraw) throw error;
        const withdrawn = await this.withdraw(submitted.id);
        if (error instanceof TimeoutError) throw new TimeoutError(error.actionId, error.action, withdrawn);
        throw error;
      }
    }
    if (action.status !== 'approved') throw decisionError(action);
    // Held execution: countersign sends the request itself, with the only release token.
    if (action.requirement?.executor) {
      throw new CountersignError(`action ${action.id} is approved and countersign runs it itself (the policy names an executor): no release token is handed back, so do not run it here`);
    }
    if (!action.releaseToken) throw new CountersignError(`action ${action.id} is approved but came without a release token`);
    return { action, releaseToken: action.releaseToken };
  }

  /**
   * Wraps an async function so it runs only after countersign approves it. `describe` builds
   * the intent from the call's arguments; it must be a pure function of them, because it runs
   * again once approved: `fn` gets the caller's own argument objects, and if they changed while
   * people decided (so the intent they describe now is not the one approved), `fn` does not run
   * (CountersignError). Inside `fn`, `currentRelease()` returns the approval (to pass the
   * release token on to the system that acts).
   */
  guard<A extends unknown[], R>(
    describe: (...args: A) => IntentInput | Promise<IntentInput>,
    fn: (...args: A) => R | Promise<R>,
    opts: AuthorizeOptions = {},
  ): (...args: A) => Promise<R> {
    return async (...args: A): Promise<R> => {
      const intent = await describe(...args);
      // The intent as it goes on the wire, taken now: it may share objects with the arguments.
      const submitted = JSON.stringify(intent);
      const authorization = await this.authorize(intent, opts);
      if (JSON.stringify(await describe(...args)) !== submitted) {
        throw new CountersignError(
          `action ${authorization.action.id} was approved, but the arguments changed while it waited: they no longer describe the approved intent, so the function was not run`,
        );
      }
      // One approval releases one execution. A later call that finds the same action (a fixed
      // idempotencyKey, a tool call id reused, a replayed checkpoint) is not run under it.
      const id = authorization.action.id;
      if (this.released.has(id)) {
        throw new CountersignError(`action ${id} already released a call in this process; an approval releases one execution, so this call was not run: submit it again for a new approval`);
      }
      this.released.add(id);
      if (this.released.size > MAX_REMEMBERED_RELEASES) this.released.delete(this.released.values().next().value!);
      return runReleased(authorization, () => fn(...args));
    };
  }

  /** Withdraws a pending action you submitted. */
  async cancel(id: string, reason?: string, opts: { signal?: AbortSignal } = {}): Promise<Action> {
    const { body } = await this.http.call<Action>('POST', `/v1/actions/${encodeURIComponent(id)}/cancel`, {
      body: reason === undefined ? {} : { reason },
      signal: opts.signal,
      retry: 'always',
    });
    return body;
  }

  /**
   * Redeems a release token once (for downstream services, with their own API key). A second
   * redemption of the same token fails with ApiError code `already_redeemed`. Only failures
   * where the request cannot have been recorded are retried.
   */
  async redeemRelease(token: string, opts: RedeemOptions = {}): Promise<Redemption> {
    const { body } = await this.http.call<Redemption>('POST', '/v1/releases/redeem', {
      body: { token, ...(opts.audience !== undefined ? { audience: opts.audience } : {}), ...(opts.intent !== undefined ? { intent: opts.intent } : {}) },
      signal: opts.signal,
      retry: 'unsent',
    });
    return body;
  }

  /** The signing secret for webhooks sent about this key's actions (`whsec_…`). */
  async webhookSecret(opts: { signal?: AbortSignal } = {}): Promise<string> {
    const { body } = await this.http.call<{ secret: string }>('GET', '/v1/webhooks/signing-secret', { signal: opts.signal, retry: 'always' });
    return body.secret;
  }

  private async pause(ms: number, signal: AbortSignal | undefined, deadline: number): Promise<void> {
    await sleep(Math.min(ms, Math.max(0, deadline - Date.now())), signal);
  }

  /** Best effort: finds the action a cut-short submission may have created (same key, same body) and withdraws it. */
  private async withdrawUnseen(intent: IntentInput, idempotencyKey: string): Promise<void> {
    try {
      const { body } = await this.http.call<Action>('POST', '/v1/actions', {
        body: intent,
        headers: { 'idempotency-key': idempotencyKey },
        retry: 'unsent',
        maxRetries: 2,
        // The caller has aborted: look briefly, do not keep them waiting on a slow server.
        timeoutMs: Math.min(this.timeoutMs, 5_000),
      });
      if (body && !isFinal(body.status)) await this.withdraw(body.id);
    } catch (error) {
      if (!(error instanceof CountersignError)) throw error;
    }
  }

  /** Best effort: a withdrawal that fails (already decided, unreachable) leaves the action as it is. */
  private async withdraw(id: string): Promise<boolean> {
    try {
      const action = await this.http.call<Action>('POST', `/v1/actions/${encodeURIComponent(id)}/cancel`, {
        body: { reason: 'the requester stopped waiting' },
        retry: 'unsent',
        maxRetries: 2,
      });
      return action.body.status === 'cancelled';
    } catch (error) {
      if (error instanceof ApiError || error instanceof NetworkError) return false;
      throw error;
    }
  }
}

// Options are checked here, once, and never echoed: fetch reports a header value it cannot send
// (a key with a line break) or a URL with a password by quoting them, and that message would
// reach logs and, through the agent adapters, the model's context.

/** The base URL without its trailing slashes; an http(s) URL without credentials, query or fragment. */
function checkedBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string' || baseUrl === '') throw new TypeError('Countersign: baseUrl is required');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError('Countersign: baseUrl must be an absolute http(s) URL, e.g. "https://countersign.example.com"');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('Countersign: baseUrl must be an http(s) URL');
  if (url.username || url.password) throw new TypeError('Countersign: baseUrl must not carry credentials; the API key goes in apiKey');
  if (url.search || url.hash) throw new TypeError('Countersign: baseUrl must not have a query or a fragment');
  return baseUrl.replace(/\/+$/, '');
}

function checkedBackoff(backoff: { baseMs: number; maxMs: number }): { baseMs: number; maxMs: number } {
  const ok = (ms: unknown) => typeof ms === 'number' && Number.isFinite(ms) && ms >= 0;
  if (!ok(backoff?.baseMs) || !ok(backoff?.maxMs) || backoff.baseMs > backoff.maxMs) {
    throw new TypeError('Countersign: backoff must be { baseMs, maxMs }, finite milliseconds ≥ 0 with baseMs ≤ maxMs');
  }
  return backoff;
}

function checkApiKey(apiKey: unknown): void {
  if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('Countersign: apiKey is required');
  // What an HTTP header can carry as one token: visible ASCII, no spaces or line breaks.
  if (!/^[\x21-\x7e]+$/.test(apiKey)) {
    throw new TypeError('Countersign: apiKey holds a space, a line break or a character outside visible ASCII (copied with extra text?); it is not shown here');
  }
}

const DEADLINE = Symbol('countersign.deadline');

/** The caller's signal combined with the wait's deadline (marked, to tell it from a lost connection). */
function deadlineScope(signal: AbortSignal | undefined, deadline: number): { signal: AbortSignal | undefined; dispose(): void } {
  if (deadline === Infinity) return { signal, dispose: () => undefined };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(DEADLINE), Math.max(0, deadline - Date.now()));
  const forward = () => controller.abort(signal!.reason);
  signal?.addEventListener('abort', forward, { once: true });
  if (signal?.aborted) forward();
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    },
  };
}

function isDeadline(error: unknown): boolean {
  return error === DEADLINE;
}

function isTransient(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  return error instanceof ApiError && (error.status === 408 || error.status === 429 || error.status >= 500);
}
