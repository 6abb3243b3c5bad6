// A console client without a browser: signs in through the embedded development identity
// provider with fetch and a cookie jar (as a browser would: redirects, the provider's form),
// and reads the live stream (/console/events) as it arrives.

/** A signed-in console session: its cookie, and fetch with it. */
export interface ConsoleSession {
  /** The `cs_session` cookie's value. */
  token: string;
  /** The Cookie header that carries it. */
  cookie: string;
  get(path: string): Promise<Response>;
  /** A form POST with the session's CSRF token (read from a page, as the console's forms carry it). */
  post(path: string, fields?: Record<string, string>): Promise<Response>;
}

export async function signInWithoutBrowser(consoleUrl: string, login: string): Promise<ConsoleSession> {
  const jar = new Map<string, Map<string, string>>(); // host:port → name → value
  const go = async (url: string, init: RequestInit = {}) => {
    const host = new URL(url).host;
    const cookies = jar.get(host) ?? new Map<string, string>();
    jar.set(host, cookies);
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const set of res.headers.getSetCookie()) {
      const pair = set.split(';')[0]!;
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      if (/max-age=0\b|expires=thu, 01 jan 1970/i.test(set)) cookies.delete(name);
      else cookies.set(name, value);
    }
    return res;
  };
  let url = `${consoleUrl}/console/login`;
  for (let hop = 0; hop < 20; hop++) {
    const res = await go(url);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url).href;
      continue;
    }
    // The provider's sign-in form (any password), else the console's page: signed in.
    const form = /action="(\/interaction\/[^"]+)"/.exec(await res.text());
    if (!form) break;
    const action = new URL(form[1]!, url).href;
    const done = await go(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ login, password: 'any' }).toString() });
    url = new URL(done.headers.get('location')!, action).href;
  }
  const token = jar.get(new URL(consoleUrl).host)?.get('cs_session');
  if (!token) throw new Error(`${login} did not get a console session`);
  const cookie = `cs_session=${token}`;
  const get = (path: string) => fetch(consoleUrl + path, { headers: { cookie }, redirect: 'manual' });
  return {
    token: decodeURIComponent(token),
    cookie,
    get,
    async post(path, fields = {}) {
      const page = await (await get('/console/policy')).text();
      const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1];
      if (!csrf) throw new Error('no CSRF token on the page: is the session still open?');
      return fetch(consoleUrl + path, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
        redirect: 'manual',
      });
    },
  };
}

/** One /console/events stream, read as it arrives. */
export class LiveStream {
  text = '';
  closed = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  private constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  /** Opens a stream and waits for its first line, so that the server holds it once this returns. */
  static async open(consoleUrl: string, session: ConsoleSession): Promise<LiveStream> {
    const res = await fetch(`${consoleUrl}/console/events`, { headers: { cookie: session.cookie } });
    if (res.status !== 200) throw new Error(`/console/events answered ${res.status}`);
    const stream = new LiveStream(res);
    if (!(await stream.until(/^retry: \d+\n\n/))) throw new Error('the stream closed before its first line');
    return stream;
  }

  /** Reads until `pattern` has arrived (true) or the server closed the stream (false); the runner's timeout bounds it. */
  async until(pattern: RegExp): Promise<boolean> {
    while (!pattern.test(this.text) && !this.closed) {
      const { value, done } = await this.reader.read();
      if (done) this.closed = true;
      else this.text += this.decoder.decode(value, { stream: true });
    }
    return pattern.test(this.text);
  }

  /** The first event the stream gave (`changed`, `ended`, `replaced`), or `closed` when it closed with none. */
  async firstEvent(): Promise<string> {
    await this.until(/^event: (\w+)$/m);
    return /^event: (\w+)$/m.exec(this.text)?.[1] ?? 'closed';
  }

  /** Reads to the end: true once the server has closed the stream. */
  async end(): Promise<boolean> {
    await this.until(/(?!)/);
    return this.closed;
  }

  /** Closes it from this side, as a tab closing. */
  async cancel(): Promise<void> {
    if (!this.closed) await this.reader.cancel().catch(() => undefined);
    this.closed = true;
  }
}
