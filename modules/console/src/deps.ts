import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ActionReads, AuditExport, ChannelCatalog, Clock, ConfigView, Gate, PersonSessions, SessionCaller } from '@countersign/core';
import type { Logger } from 'pino';
import type { OidcClient } from './oidc-client.ts';
import type { LiveStreams } from './routes/live.ts';
import type { Viewer } from './pages/layout.ts';
import type { ConsoleSettings } from './settings.ts';

/** What the console's routes share; built once in module.ts. */
export interface ConsoleDeps {
  gate: Gate;
  reads: ActionReads;
  sessions: PersonSessions;
  audit: AuditExport;
  config: ConfigView;
  clock: Clock;
  logger: Logger;
  settings: ConsoleSettings;
  /** Null when single sign-on is not configured (the login page says how). */
  oidc: OidcClient | null;
  publicUrl: () => string;
  policyPath: string;
  /** The installed channels, which the policy file may name (read with the same loader as the service). */
  channels: ChannelCatalog;
  /** Subscribes to "something changed" (new action, vote, decision); returns an unsubscribe. */
  onChange(listener: () => void): () => void;
  /** The live streams (/console/events) of this process, by session: capped, one session check per burst. */
  live: LiveStreams;
}

export interface SignedIn {
  caller: SessionCaller;
  viewer: Viewer;
}

export type PageHandler = (request: FastifyRequest, reply: FastifyReply, who: SignedIn) => Promise<unknown>;
