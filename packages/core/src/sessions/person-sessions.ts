import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError, emailKey, type Person } from '@countersign/contracts';
import type { ConfigView } from '../config-view.ts';
import { peopleOf } from '../gate/awaiting.ts';
import type { Caller } from '../keys/key-service.ts';
import type { Clock } from '../ports.ts';
import type { LoginAttemptRecord, SessionRecord, SessionStore } from './session-store.ts';

// People sign in to the console with the organisation's identity provider; the session that
// follows is ours, in Postgres. A session ends at its absolute expiry, after the idle
// timeout, at logout, or as soon as its person leaves the directory or the entry under its id
// names someone else (roles are re-read on every request, like an API key's). Every state change must echo the session's CSRF token.

export interface SessionPolicy {
  idleSeconds: number;
  absoluteSeconds: number;
  /** Which identity-provider claim names the person: `email` (verified) or `sub` (= directory id). */
  claim: 'email' | 'sub';
}

/** A signed-in person as the engine sees any caller; never holds an API key. */
export interface SessionCaller extends Caller {
  /** `subject`: the identity provider's claim value the session was opened with (votes record it). */
  session: { id: string; csrfToken: string; expiresAt: Date; subject: string };
}

const LOGIN_TTL_MS = 10 * 60_000;
// lastSeenAt is written at most this often: the idle timeout is minutes, not milliseconds.
const TOUCH_EVERY_MS = 30_000;

const token = (bytes = 32) => randomBytes(bytes).toString('base64url');
export const sessionIdOf = (cookieToken: string) => createHash('sha256').update(cookieToken).digest('hex');

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class PersonSessions {
  constructor(
    private readonly store: SessionStore,
    private readonly config: ConfigView,
    private readonly clock: Clock,
    readonly policy: SessionPolicy,
  ) {}

  /** A new sign-in: the state, nonce and PKCE verifier the identity provider round trip needs. */
  async startLogin(returnTo: string): Promise<LoginAttemptRecord> {
    const login: LoginAttemptRecord = { id: token(), state: token(), nonce: token(), codeVerifier: token(48), returnTo, createdAt: this.clock.now() };
    await this.store.saveLogin(login);
    return login;
  }

  /** The attempt this browser started (its cookie) with this state, once; else a refusal. */
  async finishLogin(loginId: string | undefined, state: string | undefined): Promise<LoginAttemptRecord> {
    const login = loginId ? await this.store.takeLogin(loginId) : null;
    const fresh = login && this.clock.now().getTime() - login.createdAt.getTime() < LOGIN_TTL_MS;
    if (!login || !fresh || !state || !sameSecret(login.state, state)) {
      throw new DomainError('unauthenticated', 'This sign-in was not started from this browser or took too long; start again.');
    }
    return login;
  }

  /** The one directory person the identity provider's claims name, or a refusal saying why. */
  personFor(claims: Record<string, unknown>): { person: Person; subject: string } {
    const name = this.policy.claim;
    const value = claims[name];
    if (typeof value !== 'string' || value === '') {
      throw new DomainError('unknown_identity', `The identity provider did not send the "${name}" claim countersign is configured to use.`);
    }
    // Only an address the provider vouches for: a missing claim is not a yes (providers that let
    // users set their own email, or omit the claim, would otherwise sign anyone in as anyone).
    if (name === 'email' && claims.email_verified !== true) {
      throw new DomainError('unknown_identity', `The identity provider has not said that the email address ${value} is verified; countersign needs email_verified=true (or COUNTERSIGN_OIDC_CLAIM=sub).`);
    }
    const matches = peopleOf(this.config).filter((p) => (name === 'email' ? emailKey(p.email) === emailKey(value) : p.id === value));
    if (matches.length !== 1) {
      throw new DomainError(
        'unknown_identity',
        matches.length === 0
          ? `${value} is not in the countersign directory, so it cannot sign in to the console. Ask whoever maintains config/directory.yaml.`
          : `${value} matches ${matches.length} people in the directory; it must match exactly one.`,
      );
    }
    return { person: matches[0]!, subject: value };
  }

  /** Opens a session; the returned token goes in the cookie and nowhere else. */
  async open(person: Person, subject: string): Promise<{ token: string; session: SessionRecord }> {
    const now = this.clock.now();
    const cookieToken = token();
    const session: SessionRecord = {
      id: sessionIdOf(cookieToken),
      personId: person.id,
      subject,
      csrfToken: token(),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.policy.absoluteSeconds * 1000),
      endedAt: null,
    };
    await this.store.createSession(session);
    return { token: cookieToken, session };
  }

  /**
   * The caller behind a session cookie, or null: unknown, ended, idle too long, past its
   * expiry, or person gone. `touch: false` asks without counting as the person's activity
   * (a page's live stream checking that its session still holds must not keep it from
   * going idle).
   */
  async authenticate(cookieToken: string | undefined, opts: { touch?: boolean } = {}): Promise<SessionCaller | null> {
    if (!cookieToken || cookieToken.length > 200) return null;
    const session = await this.store.findSession(sessionIdOf(cookieToken));
    if (!session || session.endedAt) return null;
    const now = this.clock.now();
    const idle = now.getTime() - session.lastSeenAt.getTime() >= this.policy.idleSeconds * 1000;
    if (idle || now >= session.expiresAt) {
      await this.store.endSession(session.id, now);
      return null;
    }
    const principal = this.config.current().directory.principal(session.personId);
    if (!principal || principal.kind !== 'person') return null;
    if (!this.signedInAs(principal, session.subject)) {
      // The entry under this id names someone else now (another email: the id reused, the
      // account handed over): the session was the person who signed in, so it ends, as that
      // person's API keys stop. It stays ended should the old entry come back.
      await this.store.endSession(session.id, now);
      return null;
    }
    if (opts.touch !== false && now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) await this.store.touchSession(session.id, now);
    return { keyId: `session:${session.id.slice(0, 12)}`, principal, canDelegate: false, delegateFor: [], session: { id: session.id, csrfToken: session.csrfToken, expiresAt: session.expiresAt, subject: session.subject } };
  }

  /** Whether the directory's person is still the one the identity provider named at sign-in. */
  private signedInAs(person: Person, subject: string): boolean {
    return this.policy.claim === 'email' ? emailKey(person.email) === emailKey(subject) : person.id === subject;
  }

  /** Refuses a state change whose CSRF token is missing or not this session's. */
  assertCsrf(caller: SessionCaller, presented: string | undefined): void {
    if (!presented || !sameSecret(caller.session.csrfToken, presented)) {
      throw new DomainError('forbidden', 'The form is stale or did not come from the console (CSRF token mismatch); reload the page and try again.');
    }
  }

  async logout(caller: SessionCaller): Promise<void> {
    await this.store.endSession(caller.session.id, this.clock.now());
  }

  async purge(): Promise<void> {
    const now = this.clock.now().getTime();
    await this.store.purge(new Date(now - Math.max(LOGIN_TTL_MS, this.policy.idleSeconds * 1000)));
  }
}
