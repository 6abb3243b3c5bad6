// Storage for people's console sessions (packages/db implements it on Postgres). The rules —
// timeouts, CSRF, who a sign-in maps to — live in person-sessions.ts.

/** An OIDC sign-in in progress: what the callback must find to finish it. */
export interface LoginAttemptRecord {
  id: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  createdAt: Date;
}

export interface SessionRecord {
  /** sha256 hex of the cookie's token: the token itself is never stored. */
  id: string;
  personId: string;
  subject: string;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

export interface SessionStore {
  saveLogin(login: LoginAttemptRecord): Promise<void>;
  /** Removes and returns the attempt, so a callback completes it at most once. */
  takeLogin(id: string): Promise<LoginAttemptRecord | null>;
  createSession(session: SessionRecord): Promise<void>;
  findSession(id: string): Promise<SessionRecord | null>;
  touchSession(id: string, at: Date): Promise<void>;
  endSession(id: string, at: Date): Promise<void>;
  /** Housekeeping: login attempts started and sessions ended or expired before `before`. */
  purge(before: Date): Promise<void>;
}
